"""Layering: `indexing` never imports `app` (the index is built, queried and evaluated without the
assistant), its settings agree with the assistant's, and the dashboard reads the index through
`app.retrieval`'s service, never the catalog directly."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.config import Settings
from indexing.settings import IndexSettings

ROOT = Path(__file__).resolve().parents[3]


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, at any depth (function-level imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def _offending(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, f"no Python files under {folder}/"
    return [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in _imported_modules(path)
        if any(module == name or module.startswith(name + ".") for name in forbidden)
    ]


def test_indexing_never_imports_app() -> None:
    assert _offending("indexing", ("app",)) == []


def test_the_check_sees_function_level_imports(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("def f():\n    from app.config import get_settings\n    import app\n")
    assert [m for _, m in _imported_modules(sample)] == ["app.config", "app.config.get_settings", "app"]


@pytest.mark.parametrize("folder", ["pages", "components"])
def test_the_dashboard_reads_the_index_through_the_retrieval_service(folder: str) -> None:
    assert _offending(folder, ("indexing.catalog", "indexing.search")) == []


def test_index_settings_agree_with_the_assistants() -> None:
    assistant = Settings.model_fields
    for name, field in IndexSettings.model_fields.items():
        assert name in assistant, f"{name} is not an assistant setting"
        assert field.default == assistant[name].default, name
        assert field.annotation == assistant[name].annotation, name


def test_index_settings_read_the_same_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INDEX_DIR", str(tmp_path / "idx"))
    monkeypatch.setenv("EMBEDDING_BATCH_SIZE", "7")
    ours, theirs = IndexSettings(), Settings()
    assert ours.resolved_index_dir == theirs.resolved_index_dir == tmp_path / "idx"
    assert ours.embedding_batch_size == theirs.embedding_batch_size == 7
