"""Hybrid search: BM25 over every chunk, dense over file and definition cards, fused per file.

The public `retrieve` is a template method in the LlamaIndex manner: it times the call, applies
filters and the one-hit-per-file rule and builds the results; `_rank_files` is the ranking itself.
Each result carries the score every ranker gave it, so the dashboard can show why it is there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.retrieval.fusion import aggregate_by_file, reciprocal_rank_fusion
from app.retrieval.index_reader import IndexReader, IndexSnapshot
from app.retrieval.types import RetrievalResult, RetrievedChunk
from indexing.catalog import StoredChunk
from indexing.embedder import WINDOW_TOKENS, Embedder
from indexing.lexical import tokenize

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FusionWeights:
    """How much each ranker counts in the fusion (chosen on the development questions)."""

    bm25: float = 1.0
    dense_chunks: float = 0.7
    dense_files: float = 0.5
    # RRF's k: None scales it with the corpus (a quarter of the files, between 5 and 60). The
    # usual 60 suits deep rankings; over a few dozen files it would make rank 1 and rank 10
    # nearly equal, so being listed by more rankers would outweigh being first in two of them.
    rrf_k: int | None = None

    def k_for(self, n_files: int) -> int:
        return self.rrf_k if self.rrf_k is not None else max(5, min(60, n_files // 4))


@dataclass
class _FileEvidence:
    ranks: dict[str, int] = field(default_factory=dict)
    dense_chunk: dict[str, float] = field(default_factory=dict)  # chunk id -> cosine
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

    def retrieve(
        self,
        query: str,
        k: int = 8,
        kinds: set[str] | None = None,
        include_tests: bool = True,
        chunks_per_file: int = 1,
        weights: FusionWeights | None = None,
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

        fused, evidence, bm25_chunks, _ = self._rank_files(snap, query, weights or self.weights)
        results: list[RetrievedChunk] = []
        for path, score in fused:
            if not allowed(path):
                continue
            ev = evidence[path]
            for chunk in self._best_chunks(snap, path, ev, bm25_chunks, chunks_per_file):
                scores: dict[str, float] = {"rrf": round(score, 6)}
                if chunk.id in bm25_chunks:
                    scores["bm25"] = round(bm25_chunks[chunk.id], 4)
                if chunk.id in ev.dense_chunk:
                    scores["dense"] = round(ev.dense_chunk[chunk.id], 4)
                if ev.file_card is not None:
                    scores["file_card"] = round(ev.file_card, 4)
                for name, rank in ev.ranks.items():
                    scores[f"{name}_rank"] = rank
                results.append(_result(chunk, score, scores))
            if len({r.path for r in results}) >= k:
                break
        latency = (time.perf_counter() - started) * 1000
        log.debug("retrieve %r: %d results in %.1f ms", query[:60], len(results), latency)
        return RetrievalResult(query, results, latency, snap.generation, _warnings(self.reader))

    # ------------------------------------------------------------------------------------------
    def rankings(
        self, query: str, weights: FusionWeights | None = None
    ) -> dict[str, list[tuple[str, float]]]:
        """Each ranker's ranking of files with its scores, and the fused one: why the results are
        in their order (the Retrieval lab shows them side by side)."""
        snap = self.reader.snapshot()
        if not query.strip():
            return {"bm25": [], "dense_chunks": [], "dense_files": [], "fused": []}
        fused, _, _, scored = self._rank_files(snap, query.strip(), weights or self.weights)
        return {**scored, "fused": fused}

    def _rank_files(
        self, snap: IndexSnapshot, query: str, w: FusionWeights
    ) -> tuple[
        list[tuple[str, float]],
        dict[str, _FileEvidence],
        dict[str, float],
        dict[str, list[tuple[str, float]]],
    ]:
        evidence: dict[str, _FileEvidence] = {}

        def ev(path: str) -> _FileEvidence:
            return evidence.setdefault(path, _FileEvidence())

        bm25_hits = snap.lexical.search(tokenize(query), self.bm25_depth)
        bm25_chunks = {cid: score for cid, score in bm25_hits if cid in snap.chunks}
        bm25_files = aggregate_by_file((snap.chunks[cid].path, s) for cid, s in bm25_chunks.items())
        rankings: dict[str, list[str]] = {"bm25": [p for p, _ in bm25_files]}

        chunk_cards: list[tuple[str, float]] = []
        file_cards: list[tuple[str, float]] = []
        lexical_paths = {p for p, _ in bm25_files}
        for unit_id, similarity in self._dense(snap, query):
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
        for name, ranking in rankings.items():
            for rank, path in enumerate(ranking[:100], start=1):
                ev(path).ranks[name] = rank
        fused = reciprocal_rank_fusion(
            rankings,
            {"bm25": w.bm25, "dense_chunks": w.dense_chunks, "dense_files": w.dense_files},
            k=w.k_for(len(snap.chunks_by_path)),
        )
        return fused, evidence, bm25_chunks, scored

    def _dense(self, snap: IndexSnapshot, query: str) -> list[tuple[str, float]]:
        if self._embedder_factory is None or not snap.dense:
            return []
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        embedder = self._embedder
        # A query longer than the model's window is embedded by its beginning: the standalone
        # query the conversation builds is short; this only guards pasted walls of text.
        if embedder.count_tokens(query) > WINDOW_TOKENS - 2:
            query = query[: (WINDOW_TOKENS - 2) * 3]
            while embedder.count_tokens(query) > WINDOW_TOKENS - 2:
                query = query[: len(query) * 4 // 5]
        vector = embedder.embed([query])[0]
        return self.reader.vectors().query(vector, self.dense_depth)

    @staticmethod
    def _best_chunks(
        snap: IndexSnapshot, path: str, ev: _FileEvidence, bm25: dict[str, float], n: int
    ) -> list[StoredChunk]:
        """The file's chunks that best match: BM25 (scaled to the file's best) plus dense cosine."""
        chunks = snap.chunks_by_path[path]
        top_bm25 = max((bm25.get(c.id, 0.0) for c in chunks), default=0.0) or 1.0

        def strength(chunk: StoredChunk) -> float:
            return bm25.get(chunk.id, 0.0) / top_bm25 + ev.dense_chunk.get(chunk.id, 0.0)

        ranked = sorted(chunks, key=lambda c: (-strength(c), c.start_line))
        best = [c for c in ranked[:n] if strength(c) > 0]
        return best or ranked[:1]


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
