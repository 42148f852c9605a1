"""UI tests run the real pages with AppTest against an index built in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import get_settings
from indexing.builder import IndexBuilder
from indexing.embedder import shared_embedder

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the app's settings at tmp_path and forget any cached settings or resources."""
    import streamlit as st

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.chdir(REPO)
    get_settings.cache_clear()
    st.cache_resource.clear()
    yield tmp_path / "index"
    get_settings.cache_clear()
    st.cache_resource.clear()


@pytest.fixture
def small_index(settings_env: Path, tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    (corpus / "api").mkdir(parents=True)
    (corpus / "api" / "tracks.py").write_text(
        'from fastapi import APIRouter\nrouter = APIRouter(prefix="/api/v1/tracks")\n\n\n'
        '@router.post("/{track_id}/enroll")\ndef enroll_students(track_id: str, emails: list[str]):\n'
        '    """Enroll students in a track by their email addresses."""\n    return {"enrolled": emails}\n'
    )
    (corpus / "README.md").write_text("# Platform\n\n## Projects\n\nA project groups learning tracks.\n")
    IndexBuilder(settings_env, lambda: shared_embedder()).build(corpus)
    return settings_env
