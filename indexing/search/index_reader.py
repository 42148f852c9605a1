"""A read-only view of a built index: chunks in memory, the BM25 index, the vector store.

The builder commits a new generation atomically; the reader notices a newer generation on its
next query and reloads, so a running dashboard picks up a rebuild without a restart.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from indexing.bm25_index import LexicalIndex
from indexing.catalog import Catalog, DenseUnit, StoredChunk
from indexing.vector_store import VectorStore


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
    ) -> None:
        self.index_dir = index_dir
        self._collection = collection
        self._chroma = (chroma_host, chroma_port)
        self._lock = threading.Lock()
        self._snapshot: IndexSnapshot | None = None
        self._vectors: VectorStore | None = None

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

    def vectors(self) -> VectorStore:
        with self._lock:
            if self._vectors is None:
                host, port = self._chroma
                self._vectors = VectorStore(self.index_dir, self._collection, host, port)
            return self._vectors

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
