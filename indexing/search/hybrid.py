"""Hybrid search: BM25 over every chunk, dense over cards and over chunk text, fused per file.

Four rankings of files are fused with reciprocal rank fusion:

- BM25 over the full text of every chunk (`bm25`);
- dense over the short cards the fast build embeds: definition chunks (`dense_chunks`) and whole
  files (`dense_files`);
- dense over the full text of every chunk, the "passages" (`dense_passages`), once the background
  fill (`python -m indexing fill-cache`) has embedded them. An admin's question shares words with
  the chunk that answers it (a permission dependency, a route guard, a YAML value) far more often
  than with a card, which carries only a file's most distinctive words.

Two ways in, with two latency budgets (see `Mode`): an interactive search ranks with whatever
passages are cached (a matrix product, a few milliseconds); a chat turn, where the answer costs
seconds anyway, first embeds the passages its best candidates still lack, within a time budget,
so a turn is reranked well even before the fill has finished.

The public `retrieve` is a template method in the LlamaIndex manner: it times the call, applies
filters and the one-hit-per-file rule and builds the results; `_rank_files` is the ranking itself.
Each result carries the score every ranker gave it, so the dashboard can show why it is there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from indexing.catalog import StoredChunk
from indexing.embedder import WINDOW_TOKENS, Embedder
from indexing.lexical import tokenize
from indexing.search.fusion import aggregate_by_file, reciprocal_rank_fusion
from indexing.search.index_reader import IndexReader, IndexSnapshot
from indexing.search.passage_index import PassageIndex
from indexing.search.types import RetrievalResult, RetrievedChunk
from indexing.search.vocabulary import expand, hinted_kinds, is_hinted

log = logging.getLogger(__name__)

# "search": interactive (the search box, `indexing query`, the lab), p95 budget 100 ms: ranks with
# the passages already cached. "turn": a chat turn's retrieval, p95 budget 1 s: also embeds the
# passages its best candidates lack (only while the fill is incomplete).
Mode = Literal["search", "turn"]


@dataclass(frozen=True)
class FusionWeights:
    """How much each ranker counts in the fusion (chosen on the tuning questions, see bench/README)."""

    bm25: float = 1.0
    dense_chunks: float = 0.7
    dense_files: float = 0.25
    # RRF's k. A small k lets a file ranked first by one ranker beat files that every ranker lists
    # somewhere below: the answer to an admin's question is often found by one ranker only (BM25
    # for a front-end file without cards, the passages for a YAML value). k 60 (the usual value)
    # cost recall@5 0.78 -> 0.60 on the tuning questions. None scales k with the corpus (a quarter
    # of the files, between 5 and 60), the earlier rule.
    rrf_k: int | None = 5
    dense_passages: float = 0.5
    # An optional second stage: the `HybridRetriever.rerank_depth` best files of the fused ranking
    # ranked again by the dense similarity of their chunks' full text, fused with the first (RRF
    # with `rerank_k`, this weight). Off: on the tuning questions it did not beat the passages as
    # a fourth ranker (recall@5 0.775-0.80 either way, MRR@10 0.56-0.58 against 0.60).
    rerank: float = 0.0
    rerank_k: int = 60
    # Query-word coverage: the first stage's `HybridRetriever.coverage_depth` best files ranked by
    # the IDF-weighted share of the question's terms that occur anywhere in the file (see
    # `LexicalIndex.coverage`), a ranker of its own. BM25 scores chunk by chunk; a question in
    # several parts is answered by the file that covers all of them. 0 turns it off.
    coverage: float = 0.4
    # The weight of the bridged terms (admin words -> code idioms, indexing.search.vocabulary)
    # in BM25 and in the coverage, relative to the question's own terms. 0 turns it off.
    expansion: float = 0.25
    # When the question names a kind of file by its words ("the default", "a limit", "a threshold"
    # -> configuration files; "table", "column", "constraint" -> SQL; see
    # indexing.search.vocabulary.KIND_HINTS), the first stage's `kind_hint_depth` best files of
    # that kind, in order, form a ranker of their own: the YAML value or the schema that answers
    # such a question shares few words with it and is easily outvoted by code and documents.
    kind_hint: float = 0.5
    kind_hint_depth: int = 10

    def k_for(self, n_files: int) -> int:
        return self.rrf_k if self.rrf_k is not None else max(5, min(60, n_files // 4))


@dataclass
class _FileEvidence:
    ranks: dict[str, int] = field(default_factory=dict)
    dense_chunk: dict[str, float] = field(default_factory=dict)  # chunk id -> cosine of its card
    passage: dict[str, float] = field(default_factory=dict)  # chunk id -> cosine of its full text
    file_card: float | None = None


class HybridRetriever:
    def __init__(
        self,
        reader: IndexReader,
        embedder: Callable[[], Embedder] | None,
        weights: FusionWeights | None = None,
        bm25_depth: int = 300,
        dense_depth: int = 200,
        min_dense_similarity: float = 0.25,
        passages: bool = True,
        rerank_depth: int = 30,
        rerank_chunks: int = 1,
        turn_budget_s: float = 0.5,
        passages_head_only: bool = True,
        coverage_depth: int = 30,
        passages_keep_first: bool = True,
    ) -> None:
        self.reader = reader
        self._embedder_factory = embedder
        self._embedder: Embedder | None = None
        self.weights = weights or FusionWeights()
        self.bm25_depth = bm25_depth
        self.dense_depth = dense_depth
        # A file found only by the dense ranker must at least resemble the query: below this
        # cosine, MiniLM's neighbours are noise (unrelated text scores about 0 to 0.2).
        self.min_dense_similarity = min_dense_similarity
        self.use_passages = passages and embedder is not None
        # A chat turn makes sure the best chunk of its `rerank_depth` best files has a passage
        # vector, embedding those that lack one until `turn_budget_s` is spent.
        self.rerank_depth = rerank_depth
        self.rerank_chunks = rerank_chunks
        # The passage ranking covers the first stage's `rerank_depth` best files only (BM25 and
        # the cards choose them): over every chunk of the index, MiniLM's nearest passages add
        # files that merely sound alike (measured: see bench/README.md).
        self.passages_head_only = passages_head_only
        self.turn_budget_s = turn_budget_s
        # The passages rerank below the first stage's best file, never above it: the top result
        # is the same with or without passage vectors (the search box and a chat turn agree, and
        # a partly filled cache does not move it). Measured on the tuning questions from an empty
        # cache (chat turns, 0.5 s budget): MRR@10 dev 0.793 -> 0.847, tune 0.611 -> 0.632,
        # sandbox 0.891 -> 0.910; with the head's passages all cached: dev 0.772 -> 0.856, tune
        # 0.660 -> 0.639.
        self.passages_keep_first = passages_keep_first
        # How many of the first stage's best files the coverage ranker orders.
        self.coverage_depth = coverage_depth
        self._passages: PassageIndex | None = None

    def retrieve(
        self,
        query: str,
        k: int = 8,
        kinds: set[str] | None = None,
        include_tests: bool = True,
        chunks_per_file: int = 1,
        weights: FusionWeights | None = None,
        mode: Mode = "search",
    ) -> RetrievalResult:
        """The k best files for `query`, each with its best chunk(s), best first."""
        started = time.perf_counter()
        snap = self.reader.snapshot()
        query = query.strip()
        if not query:
            return RetrievalResult(query, [], 0.0, snap.generation)

        def allowed(path: str) -> bool:
            chunks = snap.chunks_by_path.get(path)
            if not chunks:
                return False
            if kinds and chunks[0].kind not in kinds:
                return False
            return include_tests or not chunks[0].metadata.get("test")

        fused, evidence, bm25_chunks, _, vector = self._rank_files(snap, query, weights or self.weights, mode)
        results: list[RetrievedChunk] = []
        for path, score in fused:
            if not allowed(path):
                continue
            ev = evidence[path]
            if vector is not None and self._passages is not None:
                ids = [c.id for c in snap.chunks_by_path[path]]
                ev.passage.update(self._passages.similarities(ids, vector))
            for chunk in self._best_chunks(snap, path, ev, bm25_chunks, chunks_per_file):
                scores: dict[str, float] = {"rrf": round(score, 6)}
                if chunk.id in bm25_chunks:
                    scores["bm25"] = round(bm25_chunks[chunk.id], 4)
                if chunk.id in ev.dense_chunk:
                    scores["dense"] = round(ev.dense_chunk[chunk.id], 4)
                if chunk.id in ev.passage:
                    scores["passage"] = round(ev.passage[chunk.id], 4)
                if ev.file_card is not None:
                    scores["file_card"] = round(ev.file_card, 4)
                for name, rank in ev.ranks.items():
                    scores[f"{name}_rank"] = rank
                results.append(_result(chunk, score, scores))
            if len({r.path for r in results}) >= k:
                break
        latency = (time.perf_counter() - started) * 1000
        log.debug("retrieve %r (%s): %d results in %.1f ms", query[:60], mode, len(results), latency)
        return RetrievalResult(query, results, latency, snap.generation, _warnings(self.reader))

    # ------------------------------------------------------------------------------------------
    def rankings(
        self, query: str, weights: FusionWeights | None = None, mode: Mode = "search"
    ) -> dict[str, list[tuple[str, float]]]:
        """Each ranker's ranking of files with its scores, and the fused one: why the results are
        in their order (the Retrieval lab shows them side by side)."""
        snap = self.reader.snapshot()
        if not query.strip():
            return {
                "bm25": [],
                "dense_chunks": [],
                "dense_files": [],
                "dense_passages": [],
                "dense_rerank": [],
                "coverage": [],
                "kind_hint": [],
                "fused": [],
            }
        fused, _, _, scored, _ = self._rank_files(snap, query.strip(), weights or self.weights, mode)
        return {**scored, "fused": fused}

    def passage_index(self) -> PassageIndex | None:
        """The passage vectors of the index (None when passages are off or there is no embedder)."""
        if not self.use_passages:
            return None
        if self._passages is None:
            embedder = self._get_embedder()
            if embedder is None:
                return None
            self._passages = PassageIndex(self.reader.index_dir, embedder.model_id, embedder.dimension)
        return self._passages

    def _get_embedder(self) -> Embedder | None:
        if self._embedder_factory is None:
            return None
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        return self._embedder

    def _rank_files(
        self, snap: IndexSnapshot, query: str, w: FusionWeights, mode: Mode = "search"
    ) -> tuple[
        list[tuple[str, float]],
        dict[str, _FileEvidence],
        dict[str, float],
        dict[str, list[tuple[str, float]]],
        np.ndarray | None,
    ]:
        evidence: dict[str, _FileEvidence] = {}

        def ev(path: str) -> _FileEvidence:
            return evidence.setdefault(path, _FileEvidence())

        terms = tokenize(query)
        extra = expand(terms) if w.expansion > 0 else []
        if extra:
            bm25_hits = snap.lexical.search(terms, self.bm25_depth, extra=extra, extra_weight=w.expansion)
        else:
            bm25_hits = snap.lexical.search(terms, self.bm25_depth)
        bm25_chunks = {cid: score for cid, score in bm25_hits if cid in snap.chunks}
        bm25_files = aggregate_by_file((snap.chunks[cid].path, s) for cid, s in bm25_chunks.items())
        rankings: dict[str, list[str]] = {"bm25": [p for p, _ in bm25_files]}

        chunk_cards: list[tuple[str, float]] = []
        file_cards: list[tuple[str, float]] = []
        lexical_paths = {p for p, _ in bm25_files}
        vector = self._query_vector(query)
        for unit_id, similarity in self._dense(snap, vector):
            unit = snap.dense.get(unit_id)
            if unit is None:  # a vector of an uncommitted or dropped build
                continue
            if similarity < self.min_dense_similarity and unit.path not in lexical_paths:
                continue
            if unit.chunk_id is None:
                file_cards.append((unit.path, similarity))
                ev(unit.path).file_card = similarity
            elif unit.chunk_id in snap.chunks:
                chunk_cards.append((unit.path, similarity))
                ev(unit.path).dense_chunk[unit.chunk_id] = similarity
        scored = {
            "bm25": bm25_files,
            "dense_chunks": aggregate_by_file(chunk_cards, second_weight=0.0),
            "dense_files": aggregate_by_file(file_cards, second_weight=0.0),
        }
        rankings["dense_chunks"] = [p for p, _ in scored["dense_chunks"]]
        rankings["dense_files"] = [p for p, _ in scored["dense_files"]]
        weights = {
            "bm25": w.bm25,
            "dense_chunks": w.dense_chunks,
            "dense_files": w.dense_files,
            "dense_passages": w.dense_passages,
            "coverage": w.coverage,
            "kind_hint": w.kind_hint,
        }
        k = w.k_for(len(snap.chunks_by_path))
        wanted = w.dense_passages > 0 or w.rerank > 0
        passages = self.passage_index() if vector is not None and wanted else None
        scored["dense_passages"] = []
        scored["dense_rerank"] = []

        fused = reciprocal_rank_fusion(rankings, weights, k=k)
        scored["kind_hint"] = []
        hinted = hinted_kinds(terms) if w.kind_hint > 0 else frozenset()
        if hinted:
            scored["kind_hint"] = [
                (p, s)
                for p, s in fused
                if snap.chunks_by_path.get(p) and is_hinted(p, snap.chunks_by_path[p][0].kind, hinted)
            ][: w.kind_hint_depth]
            rankings["kind_hint"] = [p for p, _ in scored["kind_hint"]]
            fused = reciprocal_rank_fusion(rankings, weights, k=k)
        scored["coverage"] = []
        if w.coverage > 0 and fused:
            scored["coverage"] = self._coverage_ranking(snap, terms, extra, w.expansion, fused)
            rankings["coverage"] = [p for p, _ in scored["coverage"]]
            fused = reciprocal_rank_fusion(rankings, weights, k=k)
        if passages is not None and vector is not None:
            head = [p for p, _ in fused[: self.rerank_depth]]
            passages.sync(snap.generation, snap.chunks)
            # A chat turn: the head's passages the fill has not reached are embedded now.
            if mode == "turn" and self._embed_head(snap, passages, head, ev, bm25_chunks):
                passages.sync(snap.generation, snap.chunks)
            if w.dense_passages > 0:
                if self.passages_head_only:
                    ranking = self._head_ranking(snap, passages, vector, head, ev)
                else:
                    ranking, chunk_scores = passages.file_ranking(vector, 100)
                    for cid, similarity in chunk_scores.items():
                        ev(snap.chunks[cid].path).passage[cid] = similarity
                kept = [(p, s) for p, s in ranking if s >= self.min_dense_similarity or p in lexical_paths]
                scored["dense_passages"] = kept
                rankings["dense_passages"] = [p for p, _ in kept]
                first = fused[0][0] if fused else None
                fused = reciprocal_rank_fusion(rankings, weights, k=k)
                if self.passages_keep_first and first is not None:
                    fused = _first(fused, first)
        for name, ranking_ in rankings.items():
            for rank, path in enumerate(ranking_[:100], start=1):
                ev(path).ranks[name] = rank
        if passages is not None and vector is not None and w.rerank > 0:
            fused = self._rerank_head(snap, passages, vector, fused, w, ev, scored)
        return fused, evidence, bm25_chunks, scored, vector

    def _coverage_ranking(
        self,
        snap: IndexSnapshot,
        terms: list[str],
        extra: list[str],
        extra_weight: float,
        fused: list[tuple[str, float]],
    ) -> list[tuple[str, float]]:
        """The first stage's `coverage_depth` best files ordered by how much of the question
        they cover (ties keep the first stage's order); files covering none of it left out."""
        head = [p for p, _ in fused[: self.coverage_depth] if p in snap.chunks_by_path]
        groups = {p: [c.id for c in snap.chunks_by_path[p]] for p in head}
        covered = snap.lexical.coverage(terms, groups, extra=extra, extra_weight=extra_weight)
        order = {p: i for i, p in enumerate(head)}
        ranked = [(p, covered[p]) for p in head if covered.get(p, 0.0) > 0]
        return sorted(ranked, key=lambda item: (-item[1], order[item[0]]))

    @staticmethod
    def _head_ranking(
        snap: IndexSnapshot,
        passages: PassageIndex,
        vector: np.ndarray,
        head: list[str],
        ev: Callable[[str], _FileEvidence],
    ) -> list[tuple[str, float]]:
        """The head files ranked by their best passage's cosine (files without one left out)."""
        ranking: list[tuple[str, float]] = []
        for path in head:
            found = passages.similarities([c.id for c in snap.chunks_by_path[path]], vector)
            if found:
                ev(path).passage.update(found)
                ranking.append((path, max(found.values())))
        return sorted(ranking, key=lambda item: (-item[1], item[0]))

    def _embed_head(
        self,
        snap: IndexSnapshot,
        passages: PassageIndex,
        ranked: list[str],
        ev: Callable[[str], _FileEvidence],
        bm25_chunks: dict[str, float],
    ) -> int:
        """Embed the best-matching chunk(s) of the `rerank_depth` best files that have no passage
        vector yet, best file first, within `turn_budget_s` (nothing once the fill is complete).
        Returns how many were embedded."""
        embedder = self._get_embedder()
        if embedder is None:
            return 0
        candidates = [
            chunk
            for path in ranked[: self.rerank_depth]
            for chunk in self._best_chunks(snap, path, ev(path), bm25_chunks, self.rerank_chunks)
        ]
        if not passages.missing([c.id for c in candidates]):
            return 0
        return passages.ensure(candidates, embedder, self.turn_budget_s)

    def _rerank_head(
        self,
        snap: IndexSnapshot,
        passages: PassageIndex,
        vector: np.ndarray,
        fused: list[tuple[str, float]],
        w: FusionWeights,
        ev: Callable[[str], _FileEvidence],
        scored: dict[str, list[tuple[str, float]]],
    ) -> list[tuple[str, float]]:
        """The second stage: the best `rerank_depth` files ranked by their best passage's cosine
        to the question, fused with the first-stage ranking.

        A file's dense score is its best chunk among those with a passage vector (a chat turn has
        embedded the head's missing ones first, see `_embed_head`).
        """
        head = [path for path, _ in fused[: self.rerank_depth]]
        dense: list[tuple[str, float]] = []
        for path in head:
            found = passages.similarities([c.id for c in snap.chunks_by_path[path]], vector)
            if found:
                ev(path).passage.update(found)
                dense.append((path, max(found.values())))
        if not dense:
            return fused
        dense.sort(key=lambda item: (-item[1], item[0]))
        scored["dense_rerank"] = dense
        for rank, (path, _) in enumerate(dense, start=1):
            ev(path).ranks["dense_rerank"] = rank
        return reciprocal_rank_fusion(
            {"first_stage": [p for p, _ in fused], "dense_rerank": [p for p, _ in dense]},
            {"first_stage": 1.0, "dense_rerank": w.rerank},
            k=w.rerank_k,
            depth=len(fused),
        )

    def _query_vector(self, query: str) -> np.ndarray | None:
        embedder = self._get_embedder()
        if embedder is None:
            return None
        # A query longer than the model's window is embedded by its beginning: the standalone
        # query the conversation builds is short; this only guards pasted walls of text.
        if embedder.count_tokens(query) > WINDOW_TOKENS - 2:
            query = query[: (WINDOW_TOKENS - 2) * 3]
            while embedder.count_tokens(query) > WINDOW_TOKENS - 2:
                query = query[: len(query) * 4 // 5]
        vector: np.ndarray = embedder.embed([query])[0]
        return vector

    def _dense(self, snap: IndexSnapshot, vector: np.ndarray | None) -> list[tuple[str, float]]:
        if vector is None or not snap.dense:
            return []
        return self.reader.vectors().query(vector, self.dense_depth)

    @staticmethod
    def _best_chunks(
        snap: IndexSnapshot, path: str, ev: _FileEvidence, bm25: dict[str, float], n: int
    ) -> list[StoredChunk]:
        """The file's chunks that best match: BM25 (scaled to the file's best) plus the best dense
        cosine (of the chunk's card or of its full text)."""
        chunks = snap.chunks_by_path[path]
        top_bm25 = max((bm25.get(c.id, 0.0) for c in chunks), default=0.0) or 1.0

        def strength(chunk: StoredChunk) -> float:
            dense = max(ev.dense_chunk.get(chunk.id, 0.0), ev.passage.get(chunk.id, 0.0))
            return bm25.get(chunk.id, 0.0) / top_bm25 + dense

        ranked = sorted(chunks, key=lambda c: (-strength(c), c.start_line))
        best = [c for c in ranked[:n] if strength(c) > 0]
        return best or ranked[:1]


def _first(fused: list[tuple[str, float]], path: str) -> list[tuple[str, float]]:
    """`fused` with `path` moved to the front (keeping its own score)."""
    kept = [item for item in fused if item[0] == path]
    return kept + [item for item in fused if item[0] != path] if kept else fused


def _warnings(reader: IndexReader) -> tuple[str, ...]:
    """The reader's warnings (an unreachable vector server); stand-in readers may have none."""
    warnings = getattr(reader, "warnings", None)
    return tuple(warnings()) if warnings is not None else ()


def _result(chunk: StoredChunk, score: float, scores: dict[str, float]) -> RetrievedChunk:
    return RetrievedChunk(
        chunk_id=chunk.id,
        path=chunk.path,
        kind=chunk.kind,
        unit=chunk.unit,
        symbol=chunk.symbol,
        start_line=chunk.start_line,
        end_line=chunk.end_line,
        text=chunk.text,
        metadata=chunk.metadata,
        score=score,
        scores=scores,
    )
