"""Broken and unwanted files through a whole build: nothing fails, each skip is counted."""

from __future__ import annotations

import os
from pathlib import Path

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
