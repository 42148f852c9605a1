"""The walk and the read: what is indexed, what is skipped and under which counted reason."""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pathspec import GitIgnoreSpec

from indexing.sources import SourceFile, WalkReport, _CompiledSpec, read_source, walk


def write(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path opened while the test runs (to prove some files are never read)."""
    seen: list[str] = []
    real_open: Callable[..., Any] = builtins.open

    def spy(file: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(os.path.realpath(os.fspath(file)) if isinstance(file, (str, os.PathLike)) else repr(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    return seen


def run(root: Path, max_file_bytes: int = 512 * 1024) -> tuple[dict[str, SourceFile], WalkReport]:
    report = WalkReport()
    taken: dict[str, SourceFile] = {}
    for cand in walk(root, report, max_file_bytes):
        src = read_source(cand, report)
        if src is not None:
            taken[src.path] = src
    return taken, report


def reason_of(report: WalkReport, rel: str) -> str | None:
    found = [reason for reason, paths in report.examples.items() if rel in paths]
    assert len(found) <= 1, found
    return found[0] if found else None


def test_kinds_and_relative_paths(tmp_path: Path) -> None:
    write(tmp_path, "services/tracks.py", "def f():\n    return 1\n")
    write(tmp_path, "docs/api.md", "# API\n")
    write(tmp_path, "migrations/001.sql", "CREATE TABLE t (id int);\n")
    write(tmp_path, "config/app.yaml", "a: 1\n")
    write(tmp_path, "frontend/src/api.ts", "export const a = 1;\n")
    write(tmp_path, "Dockerfile", "FROM python:3.11\n")
    write(tmp_path, "logo.svg", "<svg/>")
    taken, report = run(tmp_path)
    assert {p: s.kind for p, s in taken.items()} == {
        "services/tracks.py": "python",
        "docs/api.md": "markdown",
        "migrations/001.sql": "sql",
        "config/app.yaml": "yaml",
        "frontend/src/api.ts": "typescript",
        "Dockerfile": "text",
    }
    assert report.taken == 6
    assert dict(report.skipped) == {"not a searched file type": 1}
    assert taken["services/tracks.py"].text == "def f():\n    return 1\n"
    assert taken["services/tracks.py"].size == len("def f():\n    return 1\n")


def test_walk_order_is_stable(tmp_path: Path) -> None:
    for name in ("b.py", "a.py", "z/c.py", "m/d.py"):
        write(tmp_path, name, "x = 1\n")
    assert [c.path for c in walk(tmp_path, WalkReport())] == ["a.py", "b.py", "m/d.py", "z/c.py"]


def test_invalid_utf8_keeps_a_file_with_a_few_bad_bytes(tmp_path: Path) -> None:
    code = b"# Auteur: Ren\xe9 (latin-1 comment)\ndef greet():\n    return 'hello'\n" + b"x = 1\n" * 40
    write(tmp_path, "legacy.py", code)
    taken, report = run(tmp_path)
    assert list(taken) == ["legacy.py"]
    assert taken["legacy.py"].text.startswith("# Auteur: Ren\ufffd (latin-1 comment)\ndef greet():")
    assert not report.skipped


def test_mostly_undecodable_bytes_are_binary(tmp_path: Path) -> None:
    junk = bytes(range(0x80, 0x100)) * 40  # no NUL byte, but nothing decodes
    write(tmp_path, "blob.py", junk)
    taken, report = run(tmp_path)
    assert taken == {}
    assert reason_of(report, "blob.py") == "binary"


def test_a_binary_with_a_py_name_is_skipped(tmp_path: Path) -> None:
    write(tmp_path, "module.py", b"\x7fELF\x02\x01\x01\x00\x00\x00" + b"\x00" * 200 + b"print('x')\n")
    taken, report = run(tmp_path)
    assert taken == {}
    assert dict(report.skipped) == {"binary": 1}


def test_empty_and_blank_files(tmp_path: Path) -> None:
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "blank.md", "\n\n   \n")
    write(tmp_path, "bom_only.py", "\ufeff")
    taken, report = run(tmp_path)
    assert taken == {}
    assert dict(report.skipped) == {"empty": 3}


def test_a_syntax_error_file_is_still_taken(tmp_path: Path) -> None:
    write(tmp_path, "broken.py", "def broken(:\n    return 1\n")
    taken, _ = run(tmp_path)
    assert list(taken) == ["broken.py"]


def test_a_50_mb_file_is_skipped_without_being_read(tmp_path: Path, opened: list[str]) -> None:
    big = tmp_path / "dump.sql"
    with open(big, "wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: 50 MB on paper, nothing on disk
    write(tmp_path, "small.sql", "SELECT 1;\n")
    opened.clear()
    taken, report = run(tmp_path)
    assert list(taken) == ["small.sql"]
    assert report.skipped["over the size limit"] == 1
    assert reason_of(report, "dump.sql") == "over the size limit"
    assert os.path.realpath(big) not in opened
    assert os.path.realpath(tmp_path / "small.sql") in opened


def test_the_size_limit_is_configurable(tmp_path: Path) -> None:
    write(tmp_path, "a.py", "x = 1\n" * 100)  # 600 bytes
    assert run(tmp_path, max_file_bytes=599)[0] == {}
    assert list(run(tmp_path, max_file_bytes=600)[0]) == ["a.py"]


def test_a_symlink_loop_terminates_and_is_counted(tmp_path: Path) -> None:
    write(tmp_path, "pkg/mod.py", "x = 1\n")
    os.symlink("..", tmp_path / "pkg" / "loop")  # pkg/loop -> the root itself
    os.symlink(tmp_path / "pkg" / "mod.py", tmp_path / "alias.py")
    taken, report = run(tmp_path)
    assert list(taken) == ["pkg/mod.py"]
    assert report.skipped["symlink"] == 2
    assert set(report.examples["symlink"]) == {"pkg/loop", "alias.py"}


def test_vendored_and_build_trees_lock_files_and_bundles(tmp_path: Path) -> None:
    write(tmp_path, "frontend/node_modules/react/index.js", "module.exports = 1;\n")
    write(tmp_path, "frontend/dist/app.js", "var a = 1;\n")
    write(tmp_path, "build/lib/x.py", "x = 1\n")
    write(tmp_path, "src/app.egg-info/PKG-INFO.txt", "x\n")
    write(tmp_path, "frontend/package-lock.json", "{}\n")
    write(tmp_path, "poetry.lock", "x\n")
    write(tmp_path, "frontend/src/vendor.min.js", "var a=1;\n")
    write(tmp_path, "frontend/src/app.js.map", "{}\n")
    bundle = "!function(e){" + "var a=1;" * 400 + "}();\n"
    write(tmp_path, "frontend/src/bundle.js", bundle)
    write(
        tmp_path,
        "api/generated_pb2.py",
        "# Generated by the protocol buffer compiler.  DO NOT EDIT!\nx = 1\n",
    )
    write(tmp_path, "frontend/src/app.js", "export function main() {\n  return 1;\n}\n")
    taken, report = run(tmp_path)
    assert list(taken) == ["frontend/src/app.js"]
    assert dict(report.skipped) == {
        "vendored or build folder": 4,
        "lock file": 2,
        "minified or generated": 3,  # .min.js by name, the bundle by its lines, the generated module
        "not a searched file type": 1,  # the source map
    }
    assert reason_of(report, "frontend/node_modules") == "vendored or build folder"
    assert reason_of(report, "frontend/dist") == "vendored or build folder"
    assert reason_of(report, "frontend/src/bundle.js") == "minified or generated"


def test_gitignore_nested_gitignore_and_indexignore(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "*.gen.py\nscratch/\n/top_only.py\n")
    write(tmp_path, "a.gen.py", "x = 1\n")
    write(tmp_path, "deep/b.gen.py", "x = 1\n")
    write(tmp_path, "scratch/notes.md", "# x\n")
    write(tmp_path, "top_only.py", "x = 1\n")
    write(tmp_path, "deep/top_only.py", "x = 1\n")  # anchored pattern: only the root one
    write(tmp_path, "services/.gitignore", "local_*.py\n!local_keep.py\n")
    write(tmp_path, "services/local_settings.py", "x = 1\n")
    write(tmp_path, "services/local_keep.py", "x = 1\n")
    write(tmp_path, "local_root.py", "x = 1\n")  # the nested rule does not reach up
    write(tmp_path, ".indexignore", "docs/archive/\n")
    write(tmp_path, "docs/archive/old.md", "# old\n")
    write(tmp_path, "docs/current.md", "# current\n")
    taken, report = run(tmp_path)
    assert sorted(taken) == [
        "deep/top_only.py",
        "docs/current.md",
        "local_root.py",
        "services/local_keep.py",
    ]
    assert report.skipped["ignored (.gitignore/.indexignore)"] == 6
    assert set(report.examples["ignored (.gitignore/.indexignore)"]) >= {
        "a.gen.py",
        "deep/b.gen.py",
        "scratch",
    }


def test_hidden_tool_folders_are_skipped_but_ci_config_is_kept(tmp_path: Path) -> None:
    write(tmp_path, ".idea/workspace.xml.json", "{}\n")
    write(tmp_path, ".assistant-memory/notes.md", "# remembered\n")
    write(tmp_path, ".github/workflows/ci.yml", "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n")
    write(tmp_path, ".git/config.ini", "[core]\n")
    taken, report = run(tmp_path)
    assert list(taken) == [".github/workflows/ci.yml"]
    assert reason_of(report, ".assistant-memory") == "hidden tool folder"
    assert reason_of(report, ".idea") is not None
    assert reason_of(report, ".git") is not None


@pytest.mark.parametrize(
    "name",
    [
        ".env",
        ".env.production",
        "config/production.env",
        "id_rsa",
        "keys/id_ed25519.pub",
        "key.pem",
        "certs/server.key",
        ".npmrc",
        "credentials.json",
        "secrets.yaml",
        "gcp/service-account-prod.json",
    ],
)
def test_secret_files_are_skipped_and_never_read(tmp_path: Path, opened: list[str], name: str) -> None:
    path = write(tmp_path, name, "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
    write(tmp_path, "app.py", "x = 1\n")
    opened.clear()
    taken, report = run(tmp_path)
    assert list(taken) == ["app.py"]
    assert dict(report.skipped) == {"secret file": 1}
    assert report.examples["secret file"] == [name]
    assert os.path.realpath(path) not in opened


def test_report_keeps_five_examples_per_reason(tmp_path: Path) -> None:
    for i in range(8):
        write(tmp_path, f"img{i}.png", b"\x89PNG")
    _, report = run(tmp_path)
    assert report.skipped["not a searched file type"] == 8
    assert report.examples["not a searched file type"] == [f"img{i}.png" for i in range(5)]


_PATTERNS = [
    "*.gen.py",
    "build/",
    "/top.py",
    "docs/**/draft_*.md",
    "**/fixtures/",
    "a/**/b",
    "*.py[cod]",
    "secret?.md",
    "src/*/tmp/",
    "**/*.snap",
    "logs",
    "docs/",
    "\\#notes.md",
    "name with space.md",
    "x/y/",
]
_PATHS = [
    "a.gen.py",
    "deep/a.gen.py",
    "build/",
    "src/build/",
    "top.py",
    "sub/top.py",
    "docs/x/y/draft_1.md",
    "docs/draft_2.md",
    "other/docs/draft_3.md",
    "fixtures/",
    "tests/fixtures/",
    "a/b",
    "a/x/y/b",
    "m.pyc",
    "m.py",
    "secret1.md",
    "secret12.md",
    "src/app/tmp/",
    "src/app/x/tmp/",
    "ui/__snapshots__/a.snap",
    "logs",
    "logs/",
    "var/logs/",
    "docs/",
    "docs/api.md",
    "#notes.md",
    "name with space.md",
    "x/y/",
    "q/x/y/",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PATTERNS), min_size=1, max_size=8, unique=True))
def test_joined_ignore_patterns_match_like_pathspec(patterns: list[str]) -> None:
    """The walk joins an ignore file's patterns into one regex for speed; it must decide every
    path exactly as pathspec's gitignore rules do."""
    spec = GitIgnoreSpec.from_lines(patterns)
    compiled = _CompiledSpec(spec)
    assert compiled.combined is not None
    for path in _PATHS:
        assert compiled.match(path) == bool(spec.match_file(path)), (patterns, path)


def test_negated_patterns_use_pathspec_itself() -> None:
    spec = GitIgnoreSpec.from_lines(["*.md", "!keep.md"])
    compiled = _CompiledSpec(spec)
    assert compiled.combined is None
    assert compiled.match("a.md") and not compiled.match("keep.md")


def test_a_folder_that_cannot_be_listed_is_counted_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Permission bits do not stop root, so the refusal is simulated where os.walk lists a folder."""
    write(tmp_path, "docs/a.md", "# A\n")
    write(tmp_path, "locked/b.md", "# B\n")
    real_scandir = os.scandir
    locked = str(tmp_path / "locked")

    def scandir(path: Any = ".") -> Any:
        if str(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    report = WalkReport()
    assert [c.path for c in walk(tmp_path, report)] == ["docs/a.md"]
    assert report.skipped == {"unreadable folder": 1}
    assert report.examples["unreadable folder"] == ["locked"]


def test_names_that_are_not_utf8_are_skipped_with_a_printable_example(tmp_path: Path) -> None:
    root = os.fsencode(tmp_path)
    os.makedirs(os.path.join(root, b"docs", b"d\xe9j\xe0"))
    for rel in (b"docs/ok.md", b"docs/bad\xff.md", b"docs/d\xe9j\xe0/inside.md"):
        with open(os.path.join(root, rel), "w") as f:
            f.write("# T\n")
    report = WalkReport()
    assert [c.path for c in walk(tmp_path, report)] == ["docs/ok.md"]
    assert report.skipped == {"file name not valid UTF-8": 2}
    assert sorted(report.examples["file name not valid UTF-8"]) == [
        "docs/bad\ufffd.md",
        "docs/d\ufffdj\ufffd",
    ]
