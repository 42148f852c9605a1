"""A build that dies leaves the previous index serving; the next build cleans up after it.

(a) the builder's `before_commit` hook raises after everything new is written;
(b) a real `python -m indexing build` process is SIGKILLed while it waits before its commit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from indexing.builder import BuildLockedError

from .conftest import BuilderFactory, IndexView, bm25_entries, ranked, view
from .platform_repo import FILES, write_tree

REPO_ROOT = Path(__file__).resolve().parents[3]
QUERIES = ["kinds of meeting rooms", "steps to onboard a new instructor", "maximum projects per organization"]


class Boom(RuntimeError):
    pass


def _explode() -> None:
    raise Boom("the build died before its commit")


def _change_everything(source: Path) -> None:
    """A change of each kind: one file edited, one added, one deleted."""
    (source / "config" / "limits.yaml").write_text("limits:\n  max_projects_per_org: 99\n")
    write_tree(source, {"docs/faq.md": "# FAQ\n\nCertificates are issued when a track is completed.\n"})
    (source / "docs" / "workflows.md").unlink()


def _answers(
    make_retriever: Callable[..., Any], retriever: Any = None
) -> dict[str, list[tuple[str, int, int]]]:
    r = retriever or make_retriever()
    return {q: ranked(r, q) for q in QUERIES}


def _assert_serves(before: IndexView, index_dir: Path) -> None:
    now = view(index_dir)
    assert now.generation == before.generation
    assert now.state == before.state
    assert now.files == before.files
    assert now.chunks == before.chunks
    assert now.dense == before.dense


def test_a_failing_commit_hook_leaves_the_previous_index_serving(
    source: Path, index_dir: Path, make_builder: BuilderFactory, make_retriever: Callable[..., Any]
) -> None:
    make_builder().build(source)
    before = view(index_dir)
    old_reader = make_retriever()
    answers = _answers(make_retriever, old_reader)
    assert answers[QUERIES[1]][0][0] == "docs/workflows.md"

    _change_everything(source)
    dying = make_builder()
    dying.before_commit = _explode
    with pytest.raises(Boom):
        dying.build(source)

    _assert_serves(before, index_dir)
    assert _answers(make_retriever, old_reader) == answers  # a reader that was already open
    assert _answers(make_retriever) == answers  # and a new one
    # the dead build did leave things behind: new BM25 files and vectors nobody refers to
    assert bm25_entries(index_dir) - before.bm25_references()
    assert view(index_dir).vectors - set(before.dense)

    stats = make_builder().build(source)  # the next build does the work and cleans up
    after = view(index_dir)
    assert after.generation == before.generation + 1
    assert (stats.files_changed, stats.files_deleted) == (2, 1)
    assert set(after.files) == (set(FILES) | {"docs/faq.md"}) - {"docs/workflows.md"}
    assert bm25_entries(index_dir) == after.bm25_references()
    assert after.vectors == set(after.dense)
    assert "docs/workflows.md" not in [p for p, _, _ in ranked(old_reader, QUERIES[1], k=10)]


def test_after_a_failed_build_of_a_change_that_was_undone_orphans_are_removed(
    source: Path, index_dir: Path, make_builder: BuilderFactory, make_retriever: Callable[..., Any]
) -> None:
    make_builder().build(source)
    before = view(index_dir)
    answers = _answers(make_retriever)
    limits = (source / "config" / "limits.yaml").read_text()
    workflows = (source / "docs" / "workflows.md").read_text()

    _change_everything(source)
    dying = make_builder()
    dying.before_commit = _explode
    with pytest.raises(Boom):
        dying.build(source)
    orphans = bm25_entries(index_dir) - before.bm25_references()
    stale = view(index_dir).vectors - set(before.dense)
    assert orphans and stale

    # the change is undone before the next build: nothing to index, only the leftovers to clear
    (source / "config" / "limits.yaml").write_text(limits)
    (source / "docs" / "workflows.md").write_text(workflows)
    (source / "docs" / "faq.md").unlink()
    make_builder().build(source)
    after = view(index_dir)
    assert after.chunks == before.chunks
    assert after.dense == before.dense
    assert bm25_entries(index_dir) == after.bm25_references()
    assert not orphans & bm25_entries(index_dir) - after.bm25_references()
    assert after.vectors == set(after.dense)
    assert not stale & after.vectors
    assert _answers(make_retriever) == answers


WRAPPER = '''
"""`python -m indexing` with a builder that announces it is about to commit, then hangs."""
import os
import sys
import time
from pathlib import Path

import indexing.builder as builder

_init = builder.IndexBuilder.__init__


def _init_with_hang(self, *args, **kwargs):
    _init(self, *args, **kwargs)

    def hang():
        Path(os.environ["READY_FILE"]).write_text(str(os.getpid()))
        time.sleep(600)

    self.before_commit = hang


builder.IndexBuilder.__init__ = _init_with_hang

from indexing.__main__ import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
'''


def test_a_killed_build_process_leaves_the_previous_index_serving(
    tmp_path: Path,
    source: Path,
    index_dir: Path,
    make_builder: BuilderFactory,
    make_retriever: Callable[..., Any],
) -> None:
    make_builder().build(source)
    before = view(index_dir)
    answers = _answers(make_retriever)

    _change_everything(source)
    wrapper = tmp_path / "hanging_build.py"
    wrapper.write_text(WRAPPER)
    ready = tmp_path / "ready"
    env = {
        **os.environ,
        "INDEX_DIR": str(index_dir),
        "READY_FILE": str(ready),
        "PYTHONPATH": str(REPO_ROOT),
        "HF_HUB_OFFLINE": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, str(wrapper), "build", str(source), "--quiet"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():  # the one sleep-to-synchronize: waiting for another process
            assert proc.poll() is None, proc.communicate()[1].decode()
            assert time.monotonic() < deadline, "the build never reached its commit"
            time.sleep(0.05)
        # while it holds the build lock, another build is refused
        with pytest.raises(BuildLockedError):
            make_builder().build(source)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    _assert_serves(before, index_dir)
    assert _answers(make_retriever) == answers
    assert bm25_entries(index_dir) - before.bm25_references()  # what the dead process left

    stats = make_builder().build(source)
    after = view(index_dir)
    assert after.generation == before.generation + 1
    assert (stats.files_changed, stats.files_deleted) == (2, 1)
    assert "docs/workflows.md" not in after.paths()
    assert "docs/faq.md" in after.paths()
    assert bm25_entries(index_dir) == after.bm25_references()
    assert after.vectors == set(after.dense)
    hits = make_retriever().retrieve("when are certificates issued", k=3).chunks
    assert "docs/faq.md" in [c.path for c in hits]
