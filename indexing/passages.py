"""Dense vectors of every chunk's full text ("passages"), filled after the fast build.

The fast build embeds short cards only (see indexing.cards): embedding the full text of every
chunk takes many minutes on two cores, far over the build's budget. A chunk's own words are what
an admin's question shares with it, though, so the full text is embedded too, later:

- `fill_passages` (``python -m indexing fill-cache``, or the dashboard's Index page through
  app.retrieval.maintenance) embeds every chunk of the committed index that has no vector yet, in
  batches, committing each batch: it can be stopped at any point and resumed, and a second run
  over a filled index embeds nothing.
- vectors are keyed by a hash of (model, passage version, header, text), not by chunk id, so a
  rebuild reuses every vector whose chunk text did not change, even if the chunk moved.
- the retriever reads the store as it fills (rows are only ever appended, read by rowid), and
  embeds the few candidates it needs on the fly while the fill is incomplete, writing them here
  too (see indexing.search.passage_index).

A passage is the chunk's one-line header (path, symbol, route) followed by its text, cut to the
model's window at a token boundary: chunks are sized to the window already, so only the header
can push a chunk over, and then the chunk's last lines are what is left out.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from indexing.embedder import WINDOW_TOKENS, Embedder
from indexing.locks import exclusive

PASSAGE_VERSION = "passage-v1"
PASSAGE_TOKENS = WINDOW_TOKENS - 2  # [CLS] and [SEP] are added by the model
STORE_FILE = "passages.sqlite"
FILL_BATCH = 128  # texts embedded and committed together; an interrupted fill loses at most this

Matrix = npt.NDArray[np.float32]
FillProgress = Callable[[int, int], None]  # (done, total)


class PassageSource(Protocol):
    """What a passage is made of (StoredChunk and Chunk both have these)."""

    @property
    def path(self) -> str: ...

    @property
    def symbol(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def metadata(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class _Source:
    path: str
    symbol: str
    text: str
    metadata: dict[str, Any]


def _sources(index_dir: Path) -> list[_Source]:
    """What the committed index's chunks are made of (no BM25 terms: they would double the
    fill's memory for nothing)."""
    import json

    from indexing.catalog import Catalog

    catalog = Catalog(index_dir, readonly=True)
    try:
        rows = catalog.db.execute("SELECT path, symbol, text, metadata FROM chunks ORDER BY path, start_line")
        return [_Source(path, symbol, text, json.loads(meta)) for path, symbol, text, meta in rows]
    finally:
        catalog.close()


class FillRunningError(RuntimeError):
    """Another fill of the same index is running."""


def passage_header(chunk: PassageSource) -> str:
    parts = [chunk.path]
    if chunk.symbol:
        parts.append(chunk.symbol[:200])
    route = chunk.metadata.get("route")
    if route:
        parts.append(f"[{route}]")
    return " :: ".join(parts)


def passage_raw(chunk: PassageSource) -> str:
    """The passage before it is cut to the window (what its key hashes)."""
    return f"{passage_header(chunk)}\n{chunk.text}"


def passage_key(model_id: str, chunk: PassageSource) -> str:
    raw = f"{model_id}\n{PASSAGE_VERSION}\n{passage_raw(chunk)}"
    return hashlib.sha1(raw.encode("utf-8", errors="surrogatepass")).hexdigest()


class _Prefixer(Protocol):
    def prefix(self, text: str, max_tokens: int) -> str: ...


def passage_text(chunk: PassageSource, counter: _Prefixer) -> str:
    return counter.prefix(passage_raw(chunk), PASSAGE_TOKENS)


class PassageStore:
    """The passage vectors of one index: an append-only SQLite table, read incrementally by rowid.

    Rows are never updated; a prune deletes rows, so a reader that loaded them keeps vectors no
    chunk uses any more (harmless: nothing maps to them) until it reloads.
    """

    def __init__(self, index_dir: Path, dimension: int = 384, readonly: bool = False) -> None:
        self.path = index_dir / STORE_FILE
        self.dimension = dimension
        if readonly:
            self.db = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, timeout=30
            )
        else:
            index_dir.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS vectors "
                "(n INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE NOT NULL, vector BLOB NOT NULL)"
            )
            self.db.commit()

    @staticmethod
    def exists(index_dir: Path) -> bool:
        return (index_dir / STORE_FILE).is_file()

    def close(self) -> None:
        self.db.close()

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def last_row(self) -> int:
        return int(self.db.execute("SELECT COALESCE(MAX(n), 0) FROM vectors").fetchone()[0])

    def keys(self) -> set[str]:
        return {k for (k,) in self.db.execute("SELECT key FROM vectors")}

    def rows_after(self, after: int) -> tuple[int, list[str], Matrix]:
        """Rows appended after row `after`: (last row read, keys, vectors as one matrix)."""
        keys: list[str] = []
        blobs: list[bytes] = []
        last = after
        for n, key, blob in self.db.execute(
            "SELECT n, key, vector FROM vectors WHERE n > ? ORDER BY n", (after,)
        ):
            last = n
            if len(blob) == 4 * self.dimension:
                keys.append(key)
                blobs.append(blob)
        if not blobs:
            return last, [], np.zeros((0, self.dimension), dtype=np.float32)
        matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), self.dimension)
        return last, keys, matrix

    def put_many(self, items: Iterable[tuple[str, npt.NDArray[np.float32]]]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR IGNORE INTO vectors (key, vector) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items],
            )

    def prune(self, keep: set[str]) -> int:
        """Drop vectors no chunk of the index uses any more."""
        stale = [(k,) for (k,) in self.db.execute("SELECT key FROM vectors") if k not in keep]
        with self.db:
            self.db.executemany("DELETE FROM vectors WHERE key = ?", stale)
        return len(stale)


@dataclass
class FillStats:
    chunks: int = 0  # chunks of the committed index
    distinct: int = 0  # distinct passages among them
    cached_before: int = 0
    embedded: int = 0
    pruned: int = 0
    complete: bool = False
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _missing(
    chunks: Iterable[PassageSource], model_id: str, present: set[str]
) -> tuple[int, dict[str, PassageSource], set[str]]:
    total = 0
    wanted: dict[str, PassageSource] = {}
    live: set[str] = set()
    for chunk in chunks:
        total += 1
        key = passage_key(model_id, chunk)
        live.add(key)
        if key not in present and key not in wanted:
            wanted[key] = chunk
    return total, wanted, live


def fill_passages(
    index_dir: Path,
    embedder: Embedder,
    counter: _Prefixer,
    progress: FillProgress | None = None,
    *,
    limit: int | None = None,
    batch: int = FILL_BATCH,
    should_stop: Callable[[], bool] | None = None,
) -> FillStats:
    """Embed the passages of the committed index that have no vector yet; resumable.

    `limit` embeds at most that many (a partial fill, e.g. for tests or a slow machine);
    `should_stop` is asked between batches (the dashboard's cancel). A complete fill also prunes
    vectors no chunk of the index uses any more.
    """
    started = time.perf_counter()
    stats = FillStats()
    with exclusive(
        index_dir / "fill.lock",
        lambda p: FillRunningError(f"a passage fill of {p.parent} is already running"),
    ):
        chunks = _sources(index_dir)
        store = PassageStore(index_dir, embedder.dimension)
        try:
            present = store.keys()
            stats.chunks, wanted, live = _missing(chunks, embedder.model_id, present)
            stats.distinct = len(live)
            stats.cached_before = len(live & present)
            queue = list(wanted.items())
            if limit is not None:
                queue = queue[: max(0, limit)]
            # Similar lengths batch together (less padding); the text length is a good proxy.
            queue.sort(key=lambda item: len(item[1].text))
            if progress:
                progress(0, len(queue))
            for start in range(0, len(queue), batch):
                if should_stop and should_stop():
                    break
                part = queue[start : start + batch]
                vectors = embedder.embed([passage_text(chunk, counter) for _, chunk in part])
                store.put_many(zip([k for k, _ in part], vectors, strict=True))
                stats.embedded += len(part)
                if progress:
                    progress(stats.embedded, len(queue))
            stats.complete = stats.cached_before + stats.embedded >= stats.distinct
            if stats.complete:
                stats.pruned = store.prune(live)
        finally:
            store.close()
    stats.seconds = round(time.perf_counter() - started, 2)
    return stats


def fill_status(index_dir: Path, model_id: str) -> tuple[int, int]:
    """(distinct passages of the committed index with a vector, distinct passages): the fill's
    progress as the Index page shows it."""
    if not (index_dir / "catalog.sqlite").is_file():
        return 0, 0
    live = {passage_key(model_id, c) for c in _sources(index_dir)}
    if not PassageStore.exists(index_dir):
        return 0, len(live)
    store = PassageStore(index_dir, readonly=True)
    try:
        return len(live & store.keys()), len(live)
    finally:
        store.close()
