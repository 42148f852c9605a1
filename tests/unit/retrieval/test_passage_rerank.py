"""Dense ranking over chunk text ("passages") in HybridRetriever: the interactive search uses only
cached vectors, a chat turn embeds what its best candidates lack within a budget, and either way
the ranking degrades to the lexical one when nothing is cached.

BM25 is scripted (as in test_hybrid_diversity); the embedder is a bag-of-words fake, so a
passage's cosine to a question is the share of words they have in common."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.config import Settings
from app.retrieval.hybrid import FusionWeights, HybridRetriever
from app.retrieval.index_reader import IndexSnapshot
from app.retrieval.passages import PassageIndex
from app.retrieval.service import RetrievalService
from indexing.catalog import StoredChunk
from indexing.passages import PassageStore, passage_key, passage_text
from indexing.tokens import TokenCounter

VOCAB = [
    "risk", "threshold", "export", "rows", "track", "service", "member", "remove", "permission",
    "guard", "route", "login", "weeks", "yaml", "students",
]  # fmt: skip


class WordsEmbedder:
    """Vectors of word counts over VOCAB, normalised; records what it embeds."""

    model_id = "words-v1"
    dimension = len(VOCAB)

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def count_line_tokens(self, lines: list[str]) -> list[int]:
        return [len(line.split()) for line in lines]

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.embedded.extend(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            words = text.lower().replace("/", " ").replace(".", " ").replace("\n", " ").split()
            for w in words:
                if w in VOCAB:
                    out[i, VOCAB.index(w)] += 1.0
            norm = np.linalg.norm(out[i])
            out[i] = out[i] / norm if norm else out[i]
        return out

    def passages_embedded(self) -> list[str]:
        return [t for t in self.embedded if "\n" in t]  # passages have a header line; queries do not


def _chunk(cid: str, path: str, text: str, kind: str = "python") -> StoredChunk:
    return StoredChunk(cid, path, kind, "function", f"sym_{cid}", 1, 5, text, {}, [])


CHUNKS = [
    _chunk("a1", "svc/a.py", "track service track"),
    _chunk("a2", "svc/a.py", "students weeks"),
    _chunk("b1", "svc/b.py", "track service member"),
    _chunk("c1", "svc/c.py", "track risk threshold export rows"),
    _chunk("d1", "conf/d.yaml", "risk threshold export rows yaml", kind="yaml"),
    _chunk("e1", "web/e.ts", "login guard route"),
]
HITS = [("a1", 9.0), ("b1", 6.0), ("c1", 4.0)]  # BM25 for "track risk threshold export rows"
QUERY = "track risk threshold export rows"


class ScriptedLexical:
    def search(self, terms: list[str], k: int, **bridged: Any) -> list[tuple[str, float]]:
        return HITS[:k] if "threshold" in terms else []

    def coverage(self, terms: list[str], groups: Any, **bridged: Any) -> dict[str, float]:
        return {}  # no coverage ranker here: these tests are about the passages


class NoCards:
    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        raise AssertionError("no card vectors in this index")


class FakeReader:
    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        by_path: dict[str, list[StoredChunk]] = {}
        for c in CHUNKS:
            by_path.setdefault(c.path, []).append(c)
        self.snap = IndexSnapshot(3, {c.id: c for c in CHUNKS}, by_path, {}, ScriptedLexical(), {})  # type: ignore[arg-type]

    def snapshot(self) -> IndexSnapshot:
        return self.snap

    def vectors(self) -> Any:
        return NoCards()


@pytest.fixture
def embedder() -> WordsEmbedder:
    return WordsEmbedder()


def _retriever(index_dir: Path, embedder: WordsEmbedder, **options: Any) -> HybridRetriever:
    return HybridRetriever(FakeReader(index_dir), lambda: embedder, **options)  # type: ignore[arg-type]


def _fill(index_dir: Path, embedder: WordsEmbedder, chunks: Sequence[StoredChunk] = CHUNKS) -> None:
    counter = TokenCounter()
    store = PassageStore(index_dir, embedder.dimension)
    vectors = embedder.embed([passage_text(c, counter) for c in chunks])
    store.put_many(zip([passage_key(embedder.model_id, c) for c in chunks], vectors, strict=True))
    store.close()
    embedder.embedded.clear()


def _paths(result: Any) -> list[str]:
    return [c.path for c in result.chunks]


def test_without_cached_passages_a_search_is_the_lexical_ranking(
    tmp_path: Path, embedder: WordsEmbedder
) -> None:
    result = _retriever(tmp_path, embedder).retrieve(QUERY, k=5)
    assert _paths(result) == ["svc/a.py", "svc/b.py", "svc/c.py"]
    assert embedder.embedded == [QUERY]  # the query only: a search never embeds passages
    assert all("passage" not in c.scores for c in result.chunks)


def test_by_default_the_passages_rank_only_the_first_stages_head(
    tmp_path: Path, embedder: WordsEmbedder
) -> None:
    _fill(tmp_path, embedder)
    retriever = _retriever(tmp_path, embedder)
    result = retriever.retrieve(QUERY, k=5)
    # c.py (third for BM25, first for its text) overtakes b.py; d.yaml's text matches too, but no
    # first-stage ranker lists it, so it stays out (sounding alike is not enough)
    assert _paths(result) == ["svc/a.py", "svc/c.py", "svc/b.py"]
    assert [p for p, _ in retriever.rankings(QUERY)["dense_passages"]] == ["svc/c.py", "svc/a.py", "svc/b.py"]
    narrow = _retriever(tmp_path, embedder, rerank_depth=2).retrieve(QUERY, k=5)
    assert _paths(narrow) == ["svc/a.py", "svc/b.py", "svc/c.py"]  # c.py is outside a head of 2
    assert embedder.passages_embedded() == []


def test_with_a_filled_cache_a_file_only_the_passages_find_is_returned(
    tmp_path: Path, embedder: WordsEmbedder
) -> None:
    _fill(tmp_path, embedder)
    retriever = _retriever(tmp_path, embedder, passages_head_only=False)
    result = retriever.retrieve(QUERY, k=5)
    paths = _paths(result)
    assert "conf/d.yaml" in paths  # no BM25 hit, no card: found by its text
    d = result.chunks[paths.index("conf/d.yaml")]
    assert d.scores["dense_passages_rank"] == 2 and d.scores["passage"] > 0.6
    # c.py is first for the passages and third for BM25; it overtakes b.py (second, weak text)
    assert paths.index("svc/c.py") < paths.index("svc/b.py")
    assert embedder.embedded == [QUERY]
    ranks = retriever.rankings(QUERY)
    assert [p for p, _ in ranks["dense_passages"]][:2] == ["svc/c.py", "conf/d.yaml"]
    coverage = retriever.passage_index().coverage()  # type: ignore[union-attr]
    assert (coverage.cached, coverage.chunks, coverage.complete) == (6, 6, True)


def test_a_turn_with_a_filled_cache_embeds_nothing_and_ranks_like_a_search(
    tmp_path: Path, embedder: WordsEmbedder
) -> None:
    _fill(tmp_path, embedder)
    retriever = _retriever(tmp_path, embedder)
    search = retriever.retrieve(QUERY, k=5)
    turn = retriever.retrieve(QUERY, k=5, mode="turn")
    assert _paths(turn) == _paths(search)
    assert embedder.passages_embedded() == []


def test_a_turn_without_cache_embeds_its_candidates_best_chunks_and_stores_them(
    tmp_path: Path, embedder: WordsEmbedder
) -> None:
    retriever = _retriever(tmp_path, embedder)
    turn = retriever.retrieve(QUERY, k=5, mode="turn")
    # the three files BM25 found are the candidates: their best chunk each was embedded, once
    assert sorted(t.split("\n")[0] for t in embedder.passages_embedded()) == [
        "svc/a.py :: sym_a1", "svc/b.py :: sym_b1", "svc/c.py :: sym_c1",
    ]  # fmt: skip
    assert _paths(turn) == ["svc/a.py", "svc/c.py", "svc/b.py"]  # c.py's text matches: it moves up
    assert turn.chunks[1].scores["passage"] > 0.9
    # kept: the next turn embeds nothing, and another process (a new index) reads them back
    embedder.embedded.clear()
    assert _paths(retriever.retrieve(QUERY, k=5, mode="turn")) == _paths(turn)
    assert embedder.passages_embedded() == []
    fresh = PassageIndex(tmp_path, embedder.model_id, embedder.dimension)
    fresh.sync(3, FakeReader(tmp_path).snap.chunks)
    assert fresh.coverage().cached == 3
    # and a search now uses them too
    assert _paths(_retriever(tmp_path, WordsEmbedder()).retrieve(QUERY, k=5)) == _paths(turn)


def test_a_turn_without_budget_skips_the_rerank(tmp_path: Path, embedder: WordsEmbedder) -> None:
    retriever = _retriever(tmp_path, embedder, turn_budget_s=0.0)
    turn = retriever.retrieve(QUERY, k=5, mode="turn")
    assert embedder.passages_embedded() == []
    assert _paths(turn) == ["svc/a.py", "svc/b.py", "svc/c.py"]


def test_a_turn_reranks_only_its_best_candidates(tmp_path: Path, embedder: WordsEmbedder) -> None:
    retriever = _retriever(tmp_path, embedder, rerank_depth=2)
    retriever.retrieve(QUERY, k=5, mode="turn")
    assert sorted(t.split("\n")[0] for t in embedder.passages_embedded()) == [
        "svc/a.py :: sym_a1", "svc/b.py :: sym_b1",
    ]  # fmt: skip


def test_the_budget_holds_as_many_passages_as_the_measured_cost_allows(
    tmp_path: Path, embedder: WordsEmbedder
) -> None:
    index = PassageIndex(tmp_path, embedder.model_id, embedder.dimension)
    index.sync(3, FakeReader(tmp_path).snap.chunks)
    # batch 1 (2 passages, cost unknown yet) 0 -> 0.25: 0.125 s a passage; batch 2 (2) ends at
    # 0.75: 0.25 s a passage, average 0.1875; the 0.25 s left holds one more; then none.
    ticks = iter([0.0, 0.0, 0.25, 0.25, 0.75, 0.75, 1.0, 1.0])
    done = index.ensure(CHUNKS, embedder, budget_s=1.0, batch=2, clock=lambda: next(ticks))
    assert done == 5 and len(embedder.passages_embedded()) == 5
    assert index.missing([c.id for c in CHUNKS]) == ["e1"]
    # the cost learnt (about 0.22 s a passage) is kept: a 0.1 s budget holds none, but one
    # passage a call is still embedded so that the cost is measured again (the load changes)
    assert index.ensure(CHUNKS, embedder, budget_s=0.1, clock=iter([0.0, 0.0, 0.0]).__next__) == 1
    assert index.missing([c.id for c in CHUNKS]) == []
    assert index.ensure(CHUNKS, embedder, budget_s=0.0) == 0


def test_a_partly_filled_cache_still_ranks_and_turns_fill_the_gaps(
    tmp_path: Path, embedder: WordsEmbedder
) -> None:
    _fill(tmp_path, embedder, [c for c in CHUNKS if c.id in {"a1", "b1", "d1"}])
    retriever = _retriever(tmp_path, embedder, passages_head_only=False)
    search = retriever.retrieve(QUERY, k=5)
    assert "conf/d.yaml" in _paths(search)  # cached: ranked even by a search
    assert "passage" not in search.chunks[_paths(search).index("svc/c.py")].scores
    turn = retriever.retrieve(QUERY, k=5, mode="turn")
    assert [t.split("\n")[0] for t in embedder.passages_embedded()] == ["svc/c.py :: sym_c1"]
    assert turn.chunks[_paths(turn).index("svc/c.py")].scores["passage"] > 0.9


def test_the_same_question_gets_the_same_ranking(tmp_path: Path, embedder: WordsEmbedder) -> None:
    _fill(tmp_path, embedder)
    retriever = _retriever(tmp_path, embedder)
    first = [(c.path, c.chunk_id, c.score) for c in retriever.retrieve(QUERY, k=6).chunks]
    for _ in range(3):
        assert [(c.path, c.chunk_id, c.score) for c in retriever.retrieve(QUERY, k=6).chunks] == first
    scores = [s for _, _, s in first]
    assert scores == sorted(scores, reverse=True)


def test_the_best_chunk_of_a_file_follows_the_passages_too(tmp_path: Path, embedder: WordsEmbedder) -> None:
    _fill(tmp_path, embedder)
    result = _retriever(tmp_path, embedder, passages_head_only=False).retrieve("students weeks", k=6)
    a = next(c for c in result.chunks if c.path == "svc/a.py")
    assert a.chunk_id == "a2"  # the file's text that is the question, though it has no card


def test_passages_can_be_switched_off(tmp_path: Path, embedder: WordsEmbedder) -> None:
    _fill(tmp_path, embedder)
    off = _retriever(tmp_path, embedder, passages=False)
    assert _paths(off.retrieve(QUERY, k=5, mode="turn")) == ["svc/a.py", "svc/b.py", "svc/c.py"]
    no_weight = _retriever(tmp_path, embedder, weights=FusionWeights(dense_passages=0.0))
    assert "conf/d.yaml" not in _paths(no_weight.retrieve(QUERY, k=5))


class SpyRetriever:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str]] = []
        self.reader = FakeReader(Path("/nonexistent"))

    def retrieve(self, query: str, k: int, weights: Any = None, mode: str = "search") -> Any:
        from app.retrieval.types import RetrievalResult

        self.calls.append((query, k, mode))
        return RetrievalResult(query, [], 1.0, 3)


def test_the_service_has_an_interactive_search_and_a_turn_retrieval() -> None:
    spy = SpyRetriever()
    service = RetrievalService(Settings(), retriever=spy)  # type: ignore[arg-type]
    service.search("q1", 4)
    service.search_for_turn("q2", 5)
    service.search_dicts("q3", 3)  # the search_docs tool runs inside a chat turn
    service.search("q4", 2, mode="turn")
    assert spy.calls == [("q1", 4, "search"), ("q2", 5, "turn"), ("q3", 3, "turn"), ("q4", 2, "turn")]


HEAD_ONLY = FusionWeights(dense_passages=0.0, rerank=1.0)  # the second stage alone (off by default)


def test_the_second_stage_moves_a_head_file_whose_text_answers_up(
    tmp_path: Path, embedder: WordsEmbedder
) -> None:
    _fill(tmp_path, embedder)
    retriever = _retriever(tmp_path, embedder, weights=HEAD_ONLY)
    first_stage = _retriever(tmp_path, embedder, weights=FusionWeights(dense_passages=0.0, rerank=0.0))
    assert _paths(first_stage.retrieve(QUERY, k=5)) == ["svc/a.py", "svc/b.py", "svc/c.py"]
    result = retriever.retrieve(QUERY, k=5)
    assert _paths(result) == ["svc/a.py", "svc/c.py", "svc/b.py"]
    c = result.chunks[1]
    assert c.scores["dense_rerank_rank"] == 1 and c.scores["passage"] > 0.9
    reranked = retriever.rankings(QUERY)["dense_rerank"]
    assert [p for p, _ in reranked] == ["svc/c.py", "svc/a.py", "svc/b.py"]
    assert [s for _, s in reranked] == sorted((s for _, s in reranked), reverse=True)


def test_the_second_stage_reranks_only_the_head(tmp_path: Path, embedder: WordsEmbedder) -> None:
    _fill(tmp_path, embedder)
    retriever = _retriever(tmp_path, embedder, weights=HEAD_ONLY, rerank_depth=2)
    result = retriever.retrieve(QUERY, k=5)
    assert _paths(result) == ["svc/a.py", "svc/b.py", "svc/c.py"]  # c.py is not in the head of 2
    assert "dense_rerank_rank" not in result.chunks[2].scores
    assert "conf/d.yaml" not in _paths(result)  # the head is the first stage's: d.yaml is not in it


def test_a_turn_embeds_the_head_in_rank_order_and_a_search_never_embeds(
    tmp_path: Path, embedder: WordsEmbedder
) -> None:
    search = _retriever(tmp_path, embedder, weights=HEAD_ONLY).retrieve(QUERY, k=5)
    assert _paths(search) == ["svc/a.py", "svc/b.py", "svc/c.py"] and embedder.passages_embedded() == []
    retriever = _retriever(tmp_path, embedder, weights=HEAD_ONLY, rerank_chunks=2)
    retriever.retrieve(QUERY, k=5, mode="turn")
    # up to two matching chunks of each head file, best file first: a2 matches nothing of the
    # question (no BM25 hit, no card), so it is not worth the model's time
    assert [t.split("\n")[0] for t in embedder.passages_embedded()] == [
        "svc/a.py :: sym_a1", "svc/b.py :: sym_b1", "svc/c.py :: sym_c1",
    ]  # fmt: skip


def test_the_passages_rerank_below_the_first_stages_best_file(
    tmp_path: Path, embedder: WordsEmbedder
) -> None:
    _fill(tmp_path, embedder)
    strong = FusionWeights(dense_passages=3.0)  # enough for c.py's text to outweigh a.py's BM25 lead
    free = _retriever(tmp_path, embedder, weights=strong, passages_keep_first=False)
    assert _paths(free.retrieve(QUERY, k=5))[0] == "svc/c.py"
    kept = _retriever(tmp_path, embedder, weights=strong)
    result = kept.retrieve(QUERY, k=5)
    assert _paths(result) == ["svc/a.py", "svc/c.py", "svc/b.py"]  # c.py still passes b.py
    assert result.chunks[0].scores["bm25_rank"] == 1
    assert kept.rankings(QUERY)["fused"][0][0] == "svc/a.py"
