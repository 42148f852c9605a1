"""The retriever's view of the passage vectors: every chunk's full text, embedded (see
indexing.passages), read as the background fill writes them.

The vectors of the current snapshot's chunks are kept as one matrix, so ranking every chunk of
the index against a query is one matrix product (a few milliseconds for ~30,000 chunks). Rows
appended since the last look are read by rowid on the next query, at most once a second: a
dashboard that keeps serving while the fill runs sees its coverage grow without a restart.

A chat turn can also ask for the vectors of a few chunks that have none yet (`ensure`): they are
embedded on the spot, in rank order until a time budget is spent, and written to the store so
the next query and the fill reuse them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from indexing.catalog import StoredChunk
from indexing.embedder import Embedder
from indexing.passages import PassageStore, passage_key, passage_text
from indexing.tokens import TokenCounter

log = logging.getLogger(__name__)

Vector = npt.NDArray[np.float32]
REFRESH_SECONDS = 1.0


@dataclass(frozen=True)
class Coverage:
    cached: int  # chunks of the snapshot with a passage vector
    chunks: int

    @property
    def complete(self) -> bool:
        return self.chunks > 0 and self.cached >= self.chunks

    @property
    def share(self) -> float:
        return self.cached / self.chunks if self.chunks else 0.0


class PassageIndex:
    """Passage vectors of one index folder, aligned with one snapshot's chunks at a time."""

    def __init__(self, index_dir: Path, model_id: str, dimension: int = 384) -> None:
        self.index_dir = index_dir
        self.model_id = model_id
        self.dimension = dimension
        self._lock = threading.Lock()
        self._store: PassageStore | None = None
        self._writer: PassageStore | None = None
        self._cursor = 0  # last store row read
        self._vectors: dict[str, Vector] = {}  # passage key -> vector
        self._generation: int | None = None
        self._keys: dict[str, str] = {}  # chunk id -> passage key, for the snapshot
        self._ids: list[str] = []  # chunk ids with a vector, in matrix order
        self._paths: list[str] = []
        self._matrix: Vector = np.zeros((0, dimension), dtype=np.float32)
        self._row: dict[str, int] = {}  # chunk id -> matrix row
        self._stale = True
        self._checked = 0.0
        self._counter: TokenCounter | None = None
        self._seconds_per_passage: float | None = None  # running average, for `ensure`'s budget

    # --- keeping up with the store and the snapshot ----------------------------------------------
    def sync(self, generation: int, chunks: dict[str, StoredChunk], force: bool = False) -> None:
        """Align with this snapshot, reading rows the fill appended since the last look."""
        with self._lock:
            if self._generation != generation:
                self._generation = generation
                self._keys = {cid: passage_key(self.model_id, c) for cid, c in chunks.items()}
                self._stale = True
            now = time.monotonic()
            if force or self._stale or now - self._checked >= REFRESH_SECONDS:
                self._checked = now
                self._read_new_rows()
            if self._stale:
                self._rebuild(chunks)

    def _read_new_rows(self) -> None:
        if self._store is None:
            if not PassageStore.exists(self.index_dir):
                return
            try:
                self._store = PassageStore(self.index_dir, self.dimension, readonly=True)
            except Exception:  # the fill is creating the file right now: next time
                log.debug("passage store not readable yet", exc_info=True)
                return
        if self._store.last_row() <= self._cursor:
            return
        self._cursor, keys, matrix = self._store.rows_after(self._cursor)
        for key, vector in zip(keys, matrix, strict=True):
            self._vectors[key] = vector
        if keys:
            self._stale = True

    def _rebuild(self, chunks: dict[str, StoredChunk]) -> None:
        ids = [cid for cid, key in self._keys.items() if key in self._vectors]
        self._ids = ids
        self._paths = [chunks[cid].path for cid in ids]
        self._row = {cid: i for i, cid in enumerate(ids)}
        if ids:
            self._matrix = np.stack([self._vectors[self._keys[cid]] for cid in ids]).astype(np.float32)
        else:
            self._matrix = np.zeros((0, self.dimension), dtype=np.float32)
        self._stale = False

    def coverage(self) -> Coverage:
        with self._lock:
            return Coverage(len(self._ids), len(self._keys))

    # --- ranking -------------------------------------------------------------------------------
    def file_ranking(
        self, query: Vector, depth: int = 100
    ) -> tuple[list[tuple[str, float]], dict[str, float]]:
        """Files ranked by their best chunk's cosine to the query, and those chunks' cosines.

        Returns ([(path, cosine)] best first, {chunk id: cosine} of the chunks that ranked them).
        """
        with self._lock:
            matrix, ids, paths = self._matrix, self._ids, self._paths
        if not ids:
            return [], {}
        sims = matrix @ query.astype(np.float32)
        # The best `depth` files are among the best chunks; files have many chunks, so look wide.
        wide = min(len(ids), depth * 40)
        top = np.argpartition(-sims, wide - 1)[:wide] if wide < len(ids) else np.arange(len(ids))
        top = top[np.argsort(-sims[top], kind="stable")]
        ranking: list[tuple[str, float]] = []
        chunk_scores: dict[str, float] = {}
        seen: set[str] = set()
        for i in top:
            path = paths[i]
            if path in seen:
                continue
            seen.add(path)
            ranking.append((path, float(sims[i])))
            chunk_scores[ids[i]] = float(sims[i])
            if len(ranking) >= depth:
                break
        return ranking, chunk_scores

    def similarities(self, chunk_ids: Sequence[str], query: Vector) -> dict[str, float]:
        """Cosine of each given chunk of the snapshot that has a vector (cached or just made)."""
        with self._lock:
            found = [(cid, self._vectors.get(self._keys.get(cid, ""))) for cid in chunk_ids]
        pairs = [(cid, v) for cid, v in found if v is not None]
        if not pairs:
            return {}
        sims = np.stack([v for _, v in pairs]) @ query.astype(np.float32)
        return {cid: float(s) for (cid, _), s in zip(pairs, sims, strict=True)}

    def missing(self, chunk_ids: Sequence[str]) -> list[str]:
        """The given chunks of the snapshot that have no vector yet."""
        with self._lock:
            return [cid for cid in chunk_ids if cid in self._keys and self._keys[cid] not in self._vectors]

    # --- filling on demand ---------------------------------------------------------------------
    def ensure(
        self,
        chunks: Sequence[StoredChunk],
        embedder: Embedder,
        budget_s: float,
        batch: int = 8,
        clock: Callable[[], float] = time.perf_counter,
    ) -> int:
        """Embed the given chunks that have no vector, in order, as many as fit in `budget_s`.

        How many fit is judged by the time a passage took so far (a running average kept across
        calls, so a loaded machine embeds fewer rather than overrunning): each batch is cut to
        what the rest of the budget should hold. Before anything was measured, one batch of
        `batch` is embedded to learn the cost; after that, at least one passage a call (so the
        overrun is at most one passage's time). The vectors are kept in memory and written to the
        store (the fill skips them). Returns how many were embedded; a budget of 0 embeds nothing.
        """
        wanted = set(self.missing([c.id for c in chunks]))
        queue = [c for c in chunks if c.id in wanted]
        if not queue or budget_s <= 0:
            return 0
        if self._counter is None:
            self._counter = TokenCounter()
        started = clock()
        done = 0
        while done < len(queue):
            now = clock()
            if self._seconds_per_passage is None:
                size = batch
            else:
                size = min(batch, int((budget_s - (now - started)) / self._seconds_per_passage))
            if size < 1 and done:
                break
            # At least one passage a call: the cost is measured again, so an estimate taken
            # while the machine was busy does not switch the embedding off for good.
            size = max(size, 1)
            part = queue[done : done + size]
            vectors = embedder.embed([passage_text(c, self._counter) for c in part])
            keys = [passage_key(self.model_id, c) for c in part]
            self._remember(keys, vectors)
            done += len(part)
            per_passage = max(clock() - now, 0.0) / len(part)
            previous = self._seconds_per_passage
            self._seconds_per_passage = (
                per_passage if previous is None else 0.5 * previous + 0.5 * per_passage
            )
        with self._lock:
            self._stale = True  # the matrix takes them in at the next sync
        return done

    def _remember(self, keys: list[str], vectors: Vector) -> None:
        with self._lock:
            for key, vector in zip(keys, vectors, strict=True):
                self._vectors[key] = np.asarray(vector, dtype=np.float32)
        try:
            if self._writer is None:
                self._writer = PassageStore(self.index_dir, self.dimension)
            self._writer.put_many(zip(keys, vectors, strict=True))
        except Exception:  # a read-only index folder: keep them in memory only
            log.debug("could not store passage vectors", exc_info=True)

    def close(self) -> None:
        for store in (self._store, self._writer):
            if store is not None:
                store.close()
        self._store = self._writer = None
