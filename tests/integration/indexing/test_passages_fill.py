"""The passage fill with the real model on the fixture platform: `python -m indexing fill-cache`
after a fast build, its reuse across builds, and retrieval with the filled cache (a search) or
without it (a chat turn that embeds its candidates on the fly)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from app.retrieval.hybrid import HybridRetriever
from app.retrieval.index_reader import IndexReader
from indexing.embedder import MiniLMEmbedder
from indexing.passages import PassageStore, fill_passages, fill_status
from indexing.tokens import TokenCounter

from .conftest import BuilderFactory
from .platform_repo import FILES, QUESTIONS, write_platform, write_tree
from .test_cli import Cli


def _stored(index_dir: Path) -> int:
    store = PassageStore(index_dir)
    try:
        return store.count()
    finally:
        store.close()


def test_the_cli_fills_the_cache_after_the_build_and_a_rerun_embeds_nothing(tmp_path: Path) -> None:
    cli = Cli(tmp_path, tmp_path / "index", write_platform(tmp_path / "platform"))
    assert cli("build", str(cli.source), "--quiet").returncode == 0
    stats = cli("stats")
    assert "passage vectors (full chunk text): 0 of" in stats.stdout
    assert "fill-cache to complete" in stats.stdout

    stopped = cli("fill-cache", "--quiet", "--max-seconds", "0")  # stops before its first batch
    assert stopped.returncode == 0 and " 0 embedded" in stopped.stdout and "incomplete" in stopped.stdout
    partial = cli("fill-cache", "--quiet", "--limit", "5")
    assert partial.returncode == 0, partial.stderr
    assert "5 embedded" in partial.stdout and "incomplete (run it again to continue)" in partial.stdout

    rest = cli("fill-cache", "--quiet")
    assert rest.returncode == 0, rest.stderr
    assert "5 already cached" in rest.stdout and "; complete;" in rest.stdout
    assert "peak memory" in rest.stdout
    again = cli("fill-cache")
    assert " 0 embedded" in again.stdout and "; complete;" in again.stdout
    stats = cli("stats")
    assert "fill-cache to complete" not in stats.stdout

    query = cli("query", QUESTIONS[0][0], "-k", "3", "--turn")
    assert query.returncode == 0 and QUESTIONS[0][1] in query.stdout
    assert "passage=" in query.stdout


def test_no_index_no_fill(tmp_path: Path) -> None:
    cli = Cli(tmp_path, tmp_path / "index", tmp_path)
    result = cli("fill-cache")
    assert result.returncode == 1 and "No index" in result.stdout


def test_a_rebuild_keeps_the_vectors_of_unchanged_chunks(
    source: Path, index_dir: Path, make_builder: BuilderFactory, embedder: MiniLMEmbedder
) -> None:
    make_builder().build(source)
    counter = TokenCounter()
    first = fill_passages(index_dir, embedder, counter)
    assert first.complete and first.embedded == first.distinct > 0

    write_tree(source, {"config/limits.yaml": FILES["config/limits.yaml"].replace("25", "60")})
    make_builder().build(source)
    filled, total = fill_status(index_dir, embedder.model_id)
    assert 0 < total - filled <= 3  # only the changed file's chunks lack a vector
    second = fill_passages(index_dir, embedder, counter)
    assert second.embedded == total - filled and second.complete
    assert second.pruned == second.embedded  # the old chunks' vectors are dropped
    assert _stored(index_dir) == total


@pytest.mark.parametrize("filled", [True, False], ids=["filled cache, search", "empty cache, chat turn"])
def test_questions_find_their_file_with_passages(
    source: Path, index_dir: Path, make_builder: BuilderFactory, embedder: MiniLMEmbedder, filled: bool
) -> None:
    make_builder().build(source)
    if filled:
        fill_passages(index_dir, embedder, TokenCounter())
    retriever = HybridRetriever(IndexReader(index_dir), lambda: embedder)
    mode: Literal["search", "turn"] = "search" if filled else "turn"
    for question, expected in QUESTIONS:
        paths = [c.path for c in retriever.retrieve(question, k=3, mode=mode).chunks]
        assert expected in paths, (question, paths)
    coverage = retriever.passage_index().coverage()  # type: ignore[union-attr]
    assert coverage.cached > 0
    assert coverage.complete == filled
