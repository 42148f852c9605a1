"""read_lines: a line range of an indexed file, numbered, redacted, only within the index."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import cast

import pytest

from app.platform.client import PlatformClient
from app.tools.base import ToolContext, ToolResult
from app.tools.catalog import default_registry
from app.tools.lookups import DEFAULT_FILE_LINES, ReadFile
from app.tools.registry import ToolRegistry
from indexing.builder import IndexBuilder
from indexing.embedder import shared_embedder
from indexing.file_lines import MAX_LINES, FileLinesError, read_lines, relative_to_source
from tests.unit.engine.helpers import user

SECRET = "sk-live-9fQ2xT7bLm4Rk8Zp1Wv6Yc3N"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("file-lines")
    tree = root / "tree"
    (tree / "svc").mkdir(parents=True)
    body = [f"def handler_{i}():\n    return {i}\n" for i in range(150)]
    (tree / "svc" / "api.py").write_text(
        f'"""Handlers."""\nSTRIPE_API_KEY = "{SECRET}"\n' + "".join(body), encoding="utf-8"
    )
    (tree / "docs").mkdir()
    (tree / "docs" / "guide.md").write_text(
        "# Guide\n\nEnroll students from the track page.\n", encoding="utf-8"
    )
    index = root / "index"
    IndexBuilder(index, lambda: shared_embedder()).build(tree)
    return index, tree


def test_a_range_comes_back_numbered_and_redacted(indexed: tuple[Path, Path]) -> None:
    index, tree = indexed
    lines = read_lines(index, tree, "svc/api.py", 1, 4)
    assert (lines.start_line, lines.end_line, lines.total_lines) == (1, 4, 302)
    assert lines.text.splitlines()[0] == '1 | """Handlers."""'
    assert lines.text.splitlines()[2] == "3 | def handler_0():"
    assert SECRET not in lines.text and "[REDACTED]" in lines.text.splitlines()[1]
    assert lines.citation == "svc/api.py:1-4"
    assert not lines.changed_since_indexed and not lines.clipped


def test_a_citation_or_dot_path_is_accepted(indexed: tuple[Path, Path]) -> None:
    index, tree = indexed
    assert (
        read_lines(index, tree, "docs/guide.md:1-3", 3, 3).text == "3 | Enroll students from the track page."
    )
    assert read_lines(index, tree, "./docs/guide.md", 1, 1).text == "1 | # Guide"
    assert relative_to_source("a/b.py:10-20") == "a/b.py"
    assert relative_to_source("a/b:c.py") == "a/b:c.py"


def test_ranges_are_clamped_and_clipped(indexed: tuple[Path, Path]) -> None:
    index, tree = indexed
    whole = read_lines(index, tree, "svc/api.py", 10, None)
    assert whole.clipped and whole.end_line == 10 + MAX_LINES - 1
    assert len(whole.text.splitlines()) == MAX_LINES
    tail = read_lines(index, tree, "svc/api.py", 300, 999)
    assert (tail.end_line, tail.clipped) == (302, False)
    backwards = read_lines(index, tree, "svc/api.py", 20, 5)
    assert (backwards.start_line, backwards.end_line) == (20, 20)


@pytest.mark.parametrize(
    ("path", "start", "message"),
    [
        ("svc/missing.py", 1, "is not in the index"),
        ("../tree/svc/api.py", 1, "is not in the index"),
        ("/etc/passwd", 1, "is not in the index"),
        ("svc/api.py", 303, "has 302 lines"),
        ("svc/api.py", 0, "has 302 lines"),
    ],
)
def test_what_cannot_be_read_is_said(indexed: tuple[Path, Path], path: str, start: int, message: str) -> None:
    index, tree = indexed
    with pytest.raises(FileLinesError, match=message):
        read_lines(index, tree, path, start, None)


def test_without_the_tree_on_this_machine_nothing_is_read(indexed: tuple[Path, Path], tmp_path: Path) -> None:
    index, _ = indexed
    with pytest.raises(FileLinesError, match="not on this machine"):
        read_lines(index, None, "svc/api.py", 1, 2)
    with pytest.raises(FileLinesError, match="not on this machine"):
        read_lines(index, tmp_path / "gone", "svc/api.py", 1, 2)


def test_a_file_changed_since_indexing_is_flagged(indexed: tuple[Path, Path]) -> None:
    index, tree = indexed
    guide = tree / "docs" / "guide.md"
    original = guide.read_text(encoding="utf-8")
    try:
        guide.write_text(original + "Archive old tracks.\n", encoding="utf-8")
        lines = read_lines(index, tree, "docs/guide.md", 4, 4)
        assert lines.changed_since_indexed and lines.text == "4 | Archive old tracks."
    finally:
        guide.write_text(original, encoding="utf-8")


# --- the read_file tool over it ---------------------------------------------------------------
def run_tool(indexed: tuple[Path, Path], raw: dict[str, object]) -> ToolResult:
    index, tree = indexed
    registry = default_registry()
    student = user("student")
    found = registry.validate(student, "read_file", raw)
    if isinstance(found, ToolResult):
        return found
    tool, args = found
    ctx = ToolContext(student, cast(PlatformClient, None), read_file=partial(read_lines, index, tree))
    return registry.run_read(tool, args, ctx)


def test_the_tool_returns_numbered_lines_the_model_can_cite(indexed: tuple[Path, Path]) -> None:
    result = run_tool(indexed, {"path": "svc/api.py", "start_line": 3, "end_line": 4})
    assert result.ok
    assert result.content == "[svc/api.py:3-4] of 302 lines\n3 | def handler_0():\n4 |     return 0"
    assert result.data["citation"] == "svc/api.py:3-4" and "text" not in result.data


def test_the_tool_says_when_it_clipped_and_reads_a_default_window(indexed: tuple[Path, Path]) -> None:
    clipped = run_tool(indexed, {"path": "svc/api.py", "start_line": 1, "end_line": 300})
    assert clipped.ok and f"only {MAX_LINES} lines a call; ask for line {MAX_LINES + 1} on" in clipped.content
    default = run_tool(indexed, {"path": "svc/api.py", "start_line": 11})
    assert default.ok and default.data["end_line"] == 11 + DEFAULT_FILE_LINES - 1


def test_the_tool_fails_with_a_reason_the_model_can_act_on(indexed: tuple[Path, Path]) -> None:
    outside = run_tool(indexed, {"path": "secrets/.env"})
    assert not outside.ok and "not in the index" in outside.content
    bad = run_tool(indexed, {"path": "svc/api.py", "start_line": 0})
    assert not bad.ok and "Invalid arguments for read_file" in bad.content
    ctx = ToolContext(user("student"), cast(PlatformClient, None))
    tool = default_registry().get("read_file")
    assert tool is not None
    unavailable = ToolRegistry.run_read(tool, ReadFile(path="svc/api.py"), ctx)
    assert not unavailable.ok and "not available" in unavailable.content
