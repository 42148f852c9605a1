"""Retrieval as the rest of the assistant uses it: built from settings, tolerant of a missing index.

A missing index is not an error for a conversation: the assistant still answers and acts, and
says that it cannot cite the docs until `python -m indexing build` has run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.config import Settings
from app.retrieval.hybrid import FusionWeights, HybridRetriever, Mode
from app.retrieval.index_reader import IndexMissingError, IndexReader
from app.retrieval.passages import Coverage
from app.retrieval.types import RetrievalResult
from indexing.catalog import Catalog
from indexing.file_lines import FileLines, read_lines

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexStats:
    source: str
    built_at: str
    generation: int
    model_id: str
    files_by_kind: dict[str, int]
    chunks_by_kind: dict[str, int]
    skipped: dict[str, int]
    skipped_examples: dict[str, list[str]]
    bytes_on_disk: int
    last_build: dict[str, Any]

    @property
    def files(self) -> int:
        return sum(self.files_by_kind.values())

    @property
    def chunks(self) -> int:
        return sum(self.chunks_by_kind.values())


class RetrievalService:
    def __init__(self, settings: Settings, retriever: HybridRetriever | None = None) -> None:
        self.settings = settings
        if retriever is None:
            from indexing.embedder import shared_embedder

            reader = IndexReader(
                settings.resolved_index_dir,
                settings.chroma_collection,
                settings.chroma_host,
                settings.chroma_port,
            )
            retriever = HybridRetriever(
                reader, lambda: shared_embedder(settings.embedding_batch_size, settings.embedding_threads)
            )
        self.retriever = retriever

    def available(self) -> bool:
        return IndexReader.exists(self.retriever.reader.index_dir)

    def search(
        self,
        query: str,
        k: int | None = None,
        weights: FusionWeights | None = None,
        *,
        mode: Mode = "search",
    ) -> RetrievalResult | None:
        """Results, or None when there is no index yet.

        `mode="search"` (the default) is the interactive path (the search box, the Retrieval lab):
        it ranks with the passage vectors already cached and stays within about 100 ms.
        `mode="turn"` is a chat turn's retrieval (see `search_for_turn`).
        """
        try:
            return self.retriever.retrieve(
                query, k=k or self.settings.retrieval_top_k, weights=weights, mode=mode
            )
        except IndexMissingError:
            return None

    def search_for_turn(self, query: str, k: int | None = None) -> RetrievalResult | None:
        """A chat turn's retrieval: the answer costs seconds anyway, so while the background fill
        of passage vectors is incomplete, the best candidates' missing passages are embedded now
        (within `HybridRetriever.turn_budget_s`, about half a second) and the turn is reranked
        with them. Once the fill is done it is as fast as `search`."""
        return self.search(query, k, mode="turn")

    def rankings(
        self, query: str, weights: FusionWeights | None = None
    ) -> dict[str, list[tuple[str, float]]] | None:
        """Each ranker's ranking of files and the fused one; None without an index."""
        try:
            return self.retriever.rankings(query, weights)
        except IndexMissingError:
            return None

    def passage_coverage(self) -> Coverage | None:
        """How many chunks of the index have a passage vector (the background fill's progress);
        None without an index or without passages."""
        try:
            snap = self.retriever.reader.snapshot()
        except IndexMissingError:
            return None
        passages = self.retriever.passage_index()
        if passages is None:
            return None
        passages.sync(snap.generation, snap.chunks, force=True)
        return passages.coverage()

    @property
    def weights(self) -> FusionWeights:
        return self.retriever.weights

    def stats(self) -> IndexStats | None:
        """What the index holds and how it was built; None without an index."""
        index_dir = self.retriever.reader.index_dir
        if not IndexReader.exists(index_dir):
            return None
        catalog = Catalog(index_dir, readonly=True)
        try:
            state = catalog.all_state()
            counts = catalog.counts_by_kind()
            skipped = catalog.skipped()
        finally:
            catalog.close()
        size = sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file())
        try:
            last_build = json.loads(state.get("last_build") or "{}")
        except ValueError:
            last_build = {}
        return IndexStats(
            source=state.get("source", ""), built_at=state.get("built_at", ""), generation=int(state.get("generation", "0")),
            model_id=state.get("model_id", ""), files_by_kind={k: f for k, (f, _) in counts.items()},
            chunks_by_kind={k: c for k, (_, c) in counts.items()}, skipped={r: n for r, (n, _) in skipped.items()},
            skipped_examples={r: ex for r, (_, ex) in skipped.items()}, bytes_on_disk=size, last_build=last_build,
        )  # fmt: skip

    def fingerprint(self) -> str:
        """Which build of which index answered: generation, embedding model, build time."""
        stats = self.stats()
        if stats is None:
            return "no index"
        return f"generation {stats.generation} · {stats.model_id} · built {stats.built_at}"

    @property
    def source(self) -> Path | None:
        """The indexed tree, when it is on this machine (to show a chunk within its file)."""
        stats = self.stats()
        return Path(stats.source) if stats and stats.source and Path(stats.source).is_dir() else None

    def search_dicts(self, query: str, k: int) -> list[dict[str, Any]]:
        """Plain dicts for the search_docs tool (JSON-ready, with a citation string); the tool runs
        inside a chat turn, so it gets a turn's retrieval."""
        result = self.search_for_turn(query, k)
        return [chunk.as_dict() for chunk in result.chunks] if result else []

    def read_file(self, path: str, start: int, end: int | None) -> FileLines:
        """Lines of an indexed file for the read_file tool (FileLinesError says why not)."""
        return read_lines(self.retriever.reader.index_dir, self.source, path, start, end)
