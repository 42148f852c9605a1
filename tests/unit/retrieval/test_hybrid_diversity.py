"""HybridRetriever.retrieve on an in-memory snapshot: one hit per file, filters, evidence.

The BM25 ranking is scripted so the expected order is computed by hand; the dense side is off
(no embedder), which the retriever supports for lexical-only use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from app.retrieval.hybrid import FusionWeights, HybridRetriever
from app.retrieval.index_reader import IndexSnapshot
from indexing.catalog import StoredChunk


@dataclass
class ScriptedLexical:
    """Returns the same (chunk id, score) list for any query with at least one term."""

    hits: list[tuple[str, float]]
    calls: int = 0

    def search(self, terms: list[str], k: int, **bridged: Any) -> list[tuple[str, float]]:
        self.calls += 1
        return self.hits[:k] if terms else []

    def coverage(self, terms: list[str], groups: Any, **bridged: Any) -> dict[str, float]:
        return {}  # no coverage ranker here: the scripted BM25 order is the whole ranking


def _chunk(cid: str, path: str, start: int, kind: str = "python", test: bool = False) -> StoredChunk:
    meta: dict[str, Any] = {"test": True} if test else {}
    return StoredChunk(
        cid, path, kind, "function", f"sym_{cid}", start, start + 9, f"text of {cid}", meta, []
    )


class FakeReader:
    def __init__(self, chunks: list[StoredChunk], hits: list[tuple[str, float]]) -> None:
        by_path: dict[str, list[StoredChunk]] = {}
        for c in chunks:
            by_path.setdefault(c.path, []).append(c)
        self.lexical = ScriptedLexical(hits)
        self.snap = IndexSnapshot(
            generation=7,
            chunks={c.id: c for c in chunks},
            chunks_by_path=by_path,
            dense={},
            lexical=self.lexical,  # type: ignore[arg-type]
            state={},
        )

    def snapshot(self) -> IndexSnapshot:
        return self.snap

    def vectors(self) -> Any:
        raise AssertionError("no dense search without an embedder")


CHUNKS = [
    _chunk("a1", "svc/a.py", 1),
    _chunk("a2", "svc/a.py", 11),
    _chunk("a3", "svc/a.py", 21),
    _chunk("b1", "svc/b.py", 1),
    _chunk("b2", "svc/b.py", 11),
    _chunk("c1", "docs/c.md", 1, kind="markdown"),
    _chunk("d1", "tests/test_d.py", 1, test=True),
    _chunk("e1", "svc/e.py", 1),
]
# file scores (best + half the second): a 9 + 4 = 13, b 6 + 2.5 = 8.5, c 4, d 3.5, e 1
HITS = [("a1", 9.0), ("a2", 8.0), ("a3", 7.0), ("b2", 6.0), ("b1", 5.0), ("c1", 4.0), ("d1", 3.5)]
HITS += [("gone", 3.0), ("e1", 1.0)]  # "gone": a chunk id the catalog no longer lists


@pytest.fixture
def retriever() -> HybridRetriever:
    return HybridRetriever(FakeReader(CHUNKS, HITS), None)  # type: ignore[arg-type]


def test_one_chunk_per_file_in_file_order(retriever: HybridRetriever) -> None:
    result = retriever.retrieve("track service", k=3)
    assert [c.chunk_id for c in result.chunks] == ["a1", "b2", "c1"]
    assert len({c.path for c in result.chunks}) == 3
    assert result.index_generation == 7


def test_k_distinct_files_and_stale_ids_are_ignored(retriever: HybridRetriever) -> None:
    result = retriever.retrieve("track service", k=10)
    assert [c.path for c in result.chunks] == [
        "svc/a.py",
        "svc/b.py",
        "docs/c.md",
        "tests/test_d.py",
        "svc/e.py",
    ]
    assert "gone" not in {c.chunk_id for c in result.chunks}


def test_chunks_per_file_two(retriever: HybridRetriever) -> None:
    result = retriever.retrieve("track service", k=3, chunks_per_file=2)
    assert [c.chunk_id for c in result.chunks] == ["a1", "a2", "b2", "b1", "c1"]
    assert len({c.path for c in result.chunks}) == 3


def test_scores_explain_the_ranking(retriever: HybridRetriever) -> None:
    k = FusionWeights().k_for(5)  # five files in the snapshot
    assert k == 5
    first, second = retriever.retrieve("track service", k=2).chunks
    assert first.scores == {"rrf": round(1 / (k + 1), 6), "bm25": 9.0, "bm25_rank": 1}
    assert second.scores == {"rrf": round(1 / (k + 2), 6), "bm25": 6.0, "bm25_rank": 2}
    assert first.score == pytest.approx(1 / (k + 1))
    assert first.citation == "svc/a.py:1-10"
    assert (first.symbol, first.start_line, first.end_line, first.text) == ("sym_a1", 1, 10, "text of a1")


def test_fixed_rrf_k_and_weights_are_used() -> None:
    weights = FusionWeights(bm25=2.0, rrf_k=60)
    retriever = HybridRetriever(FakeReader(CHUNKS, HITS), None, weights)  # type: ignore[arg-type]
    first, second = retriever.retrieve("track service", k=2).chunks
    assert first.score == pytest.approx(2.0 / 61)
    assert second.score == pytest.approx(2.0 / 62)


def test_rrf_k_is_small_by_default_and_can_scale_with_the_number_of_files() -> None:
    assert [FusionWeights().k_for(n) for n in (1, 24, 5000)] == [5, 5, 5]
    scaled = FusionWeights(rrf_k=None)
    assert [scaled.k_for(n) for n in (1, 20, 24, 100, 240, 5000)] == [5, 5, 6, 25, 60, 60]


def test_kind_and_test_filters(retriever: HybridRetriever) -> None:
    only_python = retriever.retrieve("track service", k=10, kinds={"python"})
    assert [c.path for c in only_python.chunks] == ["svc/a.py", "svc/b.py", "tests/test_d.py", "svc/e.py"]
    no_tests = retriever.retrieve("track service", k=10, include_tests=False)
    assert "tests/test_d.py" not in [c.path for c in no_tests.chunks]
    assert len(no_tests.chunks) == 4


def test_empty_query_and_no_terms() -> None:
    reader = FakeReader(CHUNKS, HITS)
    retriever = HybridRetriever(reader, None)  # type: ignore[arg-type]
    assert retriever.retrieve("   ").chunks == []
    assert reader.lexical.calls == 0
    assert retriever.retrieve("the of and").chunks == []  # stop words only: no terms
