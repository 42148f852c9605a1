"""UI tests run the real pages with AppTest: the real store, retrieval over a real index, the
bundled sandbox platform started in-process (real HTTP), the offline provider.

Each test gets its own DATA_DIR (store and sandbox database); the sandbox database starts as a
copy of one seeded once per session (seeding hashes passwords, which is slow on purpose), and the
sandbox's own code and docs are indexed once per session.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.config import get_settings
from indexing.builder import IndexBuilder
from indexing.embedder import shared_embedder
from sandbox.settings import DEFAULT_PLATFORM_CONFIG
from tests.support.dashboard import sandbox_index, seeded_sandbox_db

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "streamlit_app.py")


def _forget_services() -> None:
    import streamlit as st

    from components import session

    for built in session.BUILT:
        built.close()
    session.BUILT.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()


@pytest.fixture
def settings_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the app's settings at tmp_path and forget any cached settings or resources."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("LLM_PROVIDER", "offline")
    monkeypatch.setenv("SANDBOX_PLATFORM_CONFIG", str(DEFAULT_PLATFORM_CONFIG))
    for name in ("PLATFORM_BASE_URL", "DATABASE_URL", "SANDBOX_DATABASE_URL", "REDIS_URL", "CHROMA_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(REPO)
    _forget_services()
    yield tmp_path / "index"
    _forget_services()


@pytest.fixture
def dashboard(
    settings_env: Path, seeded_sandbox_db: Path, sandbox_index: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The dashboard's embedded defaults in a folder of this test's own: returns DATA_DIR."""
    data_dir = settings_env.parent
    shutil.copyfile(seeded_sandbox_db, data_dir / "sandbox.db")
    monkeypatch.setenv("INDEX_DIR", str(sandbox_index))
    get_settings.cache_clear()
    return data_dir


@pytest.fixture
def app() -> Callable[[], AppTest]:
    return lambda: AppTest.from_file(APP, default_timeout=90)


@pytest.fixture
def small_index(settings_env: Path, tmp_path: Path, seeded_sandbox_db: Path) -> Path:
    corpus = tmp_path / "corpus"
    (corpus / "api").mkdir(parents=True)
    (corpus / "api" / "tracks.py").write_text(
        'from fastapi import APIRouter\nrouter = APIRouter(prefix="/api/v1/tracks")\n\n\n'
        '@router.post("/{track_id}/enroll")\ndef enroll_students(track_id: str, emails: list[str]):\n'
        '    """Enroll students in a track by their email addresses."""\n    return {"enrolled": emails}\n'
    )
    (corpus / "README.md").write_text("# Platform\n\n## Projects\n\nA project groups learning tracks.\n")
    IndexBuilder(settings_env, lambda: shared_embedder()).build(corpus)
    shutil.copyfile(seeded_sandbox_db, tmp_path / "sandbox.db")
    return settings_env
