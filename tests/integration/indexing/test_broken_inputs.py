"""Broken and unwanted files through a whole build: nothing fails, each skip is counted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from indexing.catalog import Catalog

from .conftest import BuilderFactory, view
from .platform_repo import FILES


def test_a_build_over_broken_files(source: Path, index_dir: Path, make_builder: BuilderFactory) -> None:
    (source / "legacy.py").write_bytes(b"# Auteur: Ren\xe9\ndef greet():\n    return 'bonjour'\n")
    (source / "broken.py").write_text("def broken(:\n    return 1\n\nclass Half\n")
    (source / "native.py").write_bytes(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64)
    (source / "empty.py").write_text("")
    with open(source / "dump.sql", "wb") as f:
        f.truncate(50 * 1024 * 1024)
    os.symlink(".", source / "domain" / "loop")
    (source / "frontend" / "node_modules" / "x").mkdir(parents=True)
    (source / "frontend" / "node_modules" / "x" / "index.js").write_text("module.exports = 1;\n")
    (source / "migrations" / "0004_windows.sql").write_bytes(
        b"-- written on Windows\r\nCREATE TABLE badges (\r\n  id UUID PRIMARY KEY\r\n);\r\n"
        b"\r\nCREATE TABLE awards (\r\n  id UUID PRIMARY KEY\r\n);\r\n"
    )
    (source / ".github" / "workflows").mkdir(parents=True)
    (source / ".github" / "workflows" / "ci.yml").write_text(
        "on: push\njobs:\n  test:\n    runs-on: ubuntu\n"
    )

    stats = make_builder().build(source)
    assert stats.skipped == {
        "binary": 1,
        "empty": 1,
        "over the size limit": 1,
        "symlink": 1,
        "vendored or build folder": 1,
    }
    v = view(index_dir)
    assert set(v.files) == set(FILES) | {
        "legacy.py",
        "broken.py",
        ".github/workflows/ci.yml",
        "migrations/0004_windows.sql",
    }
    catalog = Catalog(index_dir, readonly=True)
    try:
        chunks = {c.path: c for c in catalog.chunks() if c.path in ("legacy.py", "broken.py")}
        windows = [c for c in catalog.chunks() if c.path == "migrations/0004_windows.sql"]
        skipped = catalog.skipped()
    finally:
        catalog.close()
    assert chunks["broken.py"].unit == "lines"  # the syntax error fell back to line windows
    assert chunks["broken.py"].text == "def broken(:\n    return 1\n\nclass Half"
    assert chunks["legacy.py"].symbol == "greet"
    assert chunks["legacy.py"].text.startswith("# Auteur: Ren\ufffd\ndef greet():")
    assert [(c.symbol, c.start_line, c.end_line) for c in windows] == [("badges", 1, 4), ("awards", 6, 8)]
    assert windows[1].text == "CREATE TABLE awards (\n  id UUID PRIMARY KEY\n);"
    assert skipped["over the size limit"] == (1, ["dump.sql"])
    assert skipped["symlink"] == (1, ["domain/loop"])


def test_a_file_name_that_is_not_utf8_is_skipped_not_fatal(
    source: Path, index_dir: Path, make_builder: BuilderFactory
) -> None:
    """Issue 11: a name such as b"notes\\xff.md" made the chunk id raise UnicodeEncodeError."""
    folder = os.fsencode(source / "docs")
    with open(os.path.join(folder, b"notes\xff.md"), "w") as f:
        f.write("# Notes\n\nPublishing a track needs one course.\n")
    os.mkdir(os.path.join(folder, b"old\xfe"))
    with open(os.path.join(folder, b"old\xfe", b"guide.md"), "w") as f:
        f.write("# Guide\n\nAn old guide.\n")

    stats = make_builder().build(source)

    assert stats.skipped == {"file name not valid UTF-8": 2}
    assert set(view(index_dir).files) == set(FILES)
    catalog = Catalog(index_dir, readonly=True)
    try:
        count, examples = catalog.skipped()["file name not valid UTF-8"]
    finally:
        catalog.close()
    assert count == 2
    assert sorted(examples) == ["docs/notes\ufffd.md", "docs/old\ufffd"]


def test_a_huge_line_of_one_repeated_word_is_indexed_with_unique_ids(
    source: Path, index_dir: Path, make_builder: BuilderFactory
) -> None:
    """Issue 11: the parts cut from one long line of "spam spam ..." had the same id, and Chroma's
    DuplicateIDError aborted the build."""
    (source / "docs" / "wall.md").write_text("# Wall\n\n" + "spam " * 20_000 + "\n\nafter the wall\n")

    stats = make_builder().build(source)

    assert stats.skipped == {}
    v = view(index_dir)
    wall = [(s, e) for path, s, e, _ in v.chunks.values() if path == "docs/wall.md"]
    assert len(wall) > 20  # the line was cut into many parts, each its own chunk
    assert all(1 <= s <= e <= 5 for s, e in wall)
    assert len(v.chunks) == len(set(v.chunks))


def test_a_file_that_cannot_be_chunked_is_skipped_under_a_reason(
    source: Path, index_dir: Path, make_builder: BuilderFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a chunker's defect, one file never stops the build: it is skipped and counted."""
    import indexing.process as process

    real = process.chunk_text  # type: ignore[attr-defined]  # patched below, as the builder calls it

    def chunk_text(path: str, kind: str, text: str, sizer: object) -> object:
        if path == "docs/api.md":
            raise RuntimeError("a chunker defect")
        return real(path, kind, text, sizer)  # type: ignore[arg-type]

    monkeypatch.setattr(process, "chunk_text", chunk_text)
    stats = make_builder().build(source)

    assert stats.skipped == {"could not be chunked (RuntimeError)": 1}
    assert set(view(index_dir).files) == set(FILES) - {"docs/api.md"}


def test_the_campaigns_bad_corpus_never_stops_a_build(
    tmp_path: Path, index_dir: Path, make_builder: BuilderFactory
) -> None:
    """bench.campaign's `corpora` part as a test: names that are not UTF-8, binaries, huge lines of
    one word (also as a heading and as 30,000 statements on one line), broken encodings, empty
    files, symlink loops, a FIFO, unreadable files, hostile nesting; a first and a forced build."""
    from bench.campaign_corpora import bad_corpus

    source = tmp_path / "bad"
    source.mkdir()
    bad_corpus(source)
    try:
        first = make_builder().build(source)
        forced = make_builder(force=True).build(source)
    finally:
        os.chmod(source / "locked-dir", 0o755)
    for stats in (first, forced):
        assert stats.skipped["file name not valid UTF-8"] == 4
        assert stats.skipped["symlink"] == 5
        assert not any(reason.startswith("could not be chunked") for reason in stats.skipped)
    v = view(index_dir)
    assert {"long/wall.md", "long/heading.md", "long/q.sql", "long/loop.py", "deep/nested.py"} <= set(v.files)
    assert len(v.chunks) == len(set(v.chunks))
