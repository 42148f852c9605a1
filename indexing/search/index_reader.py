"""A read-only view of a built index: chunks in memory, the BM25 index, the vector store.

The builder commits a new generation atomically; the reader notices a newer generation on its
next query and reloads, so a running dashboard picks up a rebuild without a restart.

The vectors must be where the index says they are (else `VectorLocationError`, before any local
store is created). When they live on a Chroma server that cannot be reached, dense search returns
nothing and `warnings()` says so, naming CHROMA_HOST and the address tried: retrieval goes on with
BM25 alone instead of failing every chat turn, and retries the server every `RECONNECT_AFTER_S`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexing.bm25_index import LexicalIndex
from indexing.catalog import Catalog, DenseUnit, StoredChunk
from indexing.vector_store import VectorLocation, VectorStore, VectorStoreUnavailableError

log = logging.getLogger(__name__)
RECONNECT_AFTER_S = 30.0  # while the server is down, dense search is skipped without waiting on it


class IndexMissingError(RuntimeError):
    """No index has been built at this location yet."""


@dataclass
class IndexSnapshot:
    generation: int
    chunks: dict[str, StoredChunk]
    chunks_by_path: dict[str, list[StoredChunk]]
    dense: dict[str, DenseUnit]
    lexical: LexicalIndex
    state: dict[str, str]


class IndexReader:
    def __init__(
        self,
        index_dir: Path,
        collection: str = "codebase",
        chroma_host: str | None = None,
        chroma_port: int = 8000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.index_dir = index_dir
        self._collection = collection
        self._chroma = (chroma_host, chroma_port)
        self._lock = threading.Lock()
        self._snapshot: IndexSnapshot | None = None
        self._vectors: VectorStore | None = None
        self._clock = clock
        self._down: tuple[float, str] | None = None  # (when, why) the server was last unreachable
        self._dense = DenseSearch(self)

    @staticmethod
    def exists(index_dir: Path) -> bool:
        path = index_dir / "catalog.sqlite"
        if not path.is_file():
            return False
        catalog = Catalog(index_dir, readonly=True)
        try:
            return catalog.state("generation") is not None
        finally:
            catalog.close()

    def snapshot(self) -> IndexSnapshot:
        """The current generation, reloaded if a build committed a newer one."""
        if not (self.index_dir / "catalog.sqlite").is_file():
            raise IndexMissingError(f"no index at {self.index_dir}: run `python -m indexing build PATH`")
        for attempt in range(3):
            catalog = Catalog(self.index_dir, readonly=True)
            try:
                generation = int(catalog.state("generation", "0") or 0)
                if generation == 0:
                    raise IndexMissingError(f"the index at {self.index_dir} has no finished build yet")
                with self._lock:
                    if self._snapshot is None or self._snapshot.generation != generation:
                        self._snapshot = self._load(catalog, generation)
                    return self._snapshot
            except FileNotFoundError:
                # A build committed and removed the folder we were about to read: read again.
                if attempt == 2:
                    raise
            finally:
                catalog.close()
        raise AssertionError("unreachable")

    def vectors(self) -> DenseSearch:
        """Dense search over the index's vectors, degrading to no hits when the server is down."""
        return self._dense

    def store(self) -> VectorStore:
        """The vector store, checked against where the index says its vectors live.

        Raises VectorLocationError on a mismatch (without creating a local store) and
        VectorStoreUnavailableError when the configured server cannot be reached."""
        host, port = self._chroma
        configured = VectorLocation.configured(host, port, self._collection)
        snap = self._snapshot or self.snapshot()
        recorded = VectorLocation.recorded(snap.state)
        if recorded is not None:
            recorded.check(configured, self.index_dir)
        with self._lock:
            if self._vectors is None:
                self._vectors = VectorStore(self.index_dir, self._collection, host, port)
            return self._vectors

    def warnings(self) -> list[str]:
        """What a result served now must tell its reader: the vector server is unreachable."""
        down = self._down
        if down is None:
            return []
        return [f"Semantic search is unavailable, results come from keyword search (BM25) only: {down[1]}"]

    def _query_vectors(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        down = self._down
        if down is not None and self._clock() - down[0] < RECONNECT_AFTER_S:
            return []
        try:
            hits = self.store().query(vector, k)
        except VectorStoreUnavailableError as exc:
            if self._down is None:
                log.warning("dense search off, answering from BM25 only: %s", exc)
            with self._lock:
                self._vectors = None  # reconnect from scratch next time
                self._down = (self._clock(), str(exc))
            return []
        if self._down is not None:
            log.warning("the Chroma server answers again: dense search is back")
            self._down = None
        return hits

    def _load(self, catalog: Catalog, generation: int) -> IndexSnapshot:
        catalog.db.execute("BEGIN")  # one consistent read of the catalog
        chunks: dict[str, StoredChunk] = {}
        by_path: dict[str, list[StoredChunk]] = {}
        for chunk in catalog.chunks():
            chunks[chunk.id] = chunk
            by_path.setdefault(chunk.path, []).append(chunk)
        dense = {u.id: u for u in catalog.dense_units()}
        state = catalog.all_state()
        catalog.db.execute("COMMIT")
        delta = state.get("bm25_delta") or ""
        lexical = LexicalIndex.load(
            self.index_dir / state["bm25_base"], self.index_dir / delta if delta else None
        )
        return IndexSnapshot(int(state.get("generation", generation)), chunks, by_path, dense, lexical, state)


class DenseSearch:
    """`IndexReader.vectors()`: what the hybrid retriever queries. A server that cannot be reached
    yields no hits (and a warning on the reader) instead of an exception; a vector location that
    does not match the index still raises VectorLocationError."""

    def __init__(self, reader: IndexReader) -> None:
        self._reader = reader

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        return self._reader._query_vectors(vector, k)

    def ids(self) -> set[str]:
        return self._reader.store().ids()

    def count(self) -> int:
        return self._reader.store().count()
