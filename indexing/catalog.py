"""The index's own database: which files are indexed, their chunks, and the build's state.

SQLite, because a build must be all-or-nothing: every change a build makes to the catalog is
written in one transaction at its very end, so a build that dies leaves the previous catalog (and
with it the previous BM25 index it points to) serving. The embedding cache lives in a second file,
committed as it fills, so that an interrupted build keeps the vectors it already paid for.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexing.chunk import Chunk

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, kind TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    content_hash TEXT NOT NULL, chunks INTEGER NOT NULL, redactions INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, kind TEXT NOT NULL, unit TEXT NOT NULL,
    symbol TEXT NOT NULL, start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, text TEXT NOT NULL,
    metadata TEXT NOT NULL, terms TEXT NOT NULL, dense_id TEXT, content_hash TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);
CREATE TABLE IF NOT EXISTS dense_units (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, chunk_id TEXT, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dense_units_path ON dense_units(path);
CREATE TABLE IF NOT EXISTS file_words (path TEXT PRIMARY KEY, counts TEXT NOT NULL, symbols TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS skipped (reason TEXT PRIMARY KEY, count INTEGER NOT NULL, examples TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class FileState:
    path: str
    kind: str
    size: int
    mtime_ns: int
    content_hash: str
    chunks: int
    redactions: int


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk as the retriever reads it back."""

    id: str
    path: str
    kind: str
    unit: str
    symbol: str
    start_line: int
    end_line: int
    text: str
    metadata: dict[str, Any]
    terms: list[str]


@dataclass(frozen=True, slots=True)
class DenseUnit:
    """One embedded text: the short description of a file or of a chunk that the vector stands for."""

    id: str
    path: str
    chunk_id: str | None
    text: str


@dataclass
class FileUpdate:
    """Everything a build learned about one new or changed file."""

    state: FileState
    chunks: list[Chunk]
    terms: list[list[str]]
    dense: list[DenseUnit]
    word_counts: dict[str, int]  # for the file's TF-IDF card
    symbols: list[str]


class Catalog:
    def __init__(self, index_dir: Path, readonly: bool = False) -> None:
        self.path = index_dir / "catalog.sqlite"
        if readonly:
            uri = f"file:{self.path}?mode=ro"
            self.db = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)
        else:
            index_dir.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(SCHEMA)
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(chunks)")}
            if "content_hash" not in columns:  # catalogs written before the column existed
                self.db.execute("ALTER TABLE chunks ADD COLUMN content_hash TEXT NOT NULL DEFAULT ''")
            self.db.commit()

    def close(self) -> None:
        self.db.close()

    # --- reads ---------------------------------------------------------------------------------
    def files(self) -> dict[str, FileState]:
        rows = self.db.execute(
            "SELECT path, kind, size, mtime_ns, content_hash, chunks, redactions FROM files"
        ).fetchall()
        return {r[0]: FileState(*r) for r in rows}

    def file(self, path: str) -> FileState | None:
        row = self.db.execute(
            "SELECT path, kind, size, mtime_ns, content_hash, chunks, redactions FROM files WHERE path = ?",
            (path,),
        ).fetchone()
        return FileState(*row) if row else None

    def chunks(self) -> Iterator[StoredChunk]:
        for row in self.db.execute(
            "SELECT id, path, kind, unit, symbol, start_line, end_line, text, metadata, terms "
            "FROM chunks ORDER BY path, start_line"
        ):
            cid, path, kind, unit, symbol, start, end, text, meta, terms = row
            yield StoredChunk(
                cid,
                path,
                kind,
                unit,
                symbol,
                start,
                end,
                text,
                json.loads(meta),
                terms.split(" ") if terms else [],
            )

    def chunk_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def chunk_ids_of(self, paths: Iterable[str]) -> set[str]:
        wanted = list(paths)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            marks = ",".join("?" * len(batch))
            found.update(
                r[0] for r in self.db.execute(f"SELECT id FROM chunks WHERE path IN ({marks})", batch)
            )
        return found

    def terms_except(self, paths: set[str]) -> Iterator[tuple[str, list[str]]]:
        """(chunk id, BM25 terms) of every chunk outside `paths`, in a stable order."""
        for cid, path, terms in self.db.execute(
            "SELECT id, path, terms FROM chunks ORDER BY path, start_line"
        ):
            if path not in paths:
                yield cid, terms.split(" ") if terms else []

    def chunk_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM chunks")}

    def dense_units(self) -> list[DenseUnit]:
        return [DenseUnit(*r) for r in self.db.execute("SELECT id, path, chunk_id, text FROM dense_units")]

    def dense_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM dense_units")}

    def file_words(self) -> dict[str, tuple[dict[str, int], list[str]]]:
        rows = self.db.execute("SELECT path, counts, symbols FROM file_words").fetchall()
        return {r[0]: (json.loads(r[1]), json.loads(r[2])) for r in rows}

    def state(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def all_state(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, value FROM state").fetchall())

    def skipped(self) -> dict[str, tuple[int, list[str]]]:
        rows = self.db.execute("SELECT reason, count, examples FROM skipped").fetchall()
        return {r[0]: (r[1], json.loads(r[2])) for r in rows}

    def counts_by_kind(self) -> dict[str, tuple[int, int]]:
        rows = self.db.execute("SELECT kind, COUNT(*), SUM(chunks) FROM files GROUP BY kind").fetchall()
        return {r[0]: (r[1], r[2] or 0) for r in rows}

    # --- the one write -------------------------------------------------------------------------
    def commit_build(
        self,
        updates: Sequence[FileUpdate],
        deleted: Iterable[str],
        touched: Iterable[FileState],
        state: dict[str, str],
        skipped: dict[str, tuple[int, list[str]]],
        refreshed: Sequence[DenseUnit] = (),
    ) -> None:
        """Apply a whole build atomically: readers see the old index or the new, never a mix."""
        with self.db:  # one transaction
            for path in deleted:
                self._remove(path)
            for update in updates:
                self._remove(update.state.path)
                s = update.state
                self.db.execute(
                    "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (s.path, s.kind, s.size, s.mtime_ns, s.content_hash, s.chunks, s.redactions),
                )
                dense_of = {u.chunk_id: u.id for u in update.dense if u.chunk_id}
                self.db.executemany(
                    "INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            c.id, c.path, c.kind, c.unit, c.symbol, c.start_line, c.end_line, c.text,
                            json.dumps(c.metadata, ensure_ascii=False), " ".join(t), dense_of.get(c.id),
                            c.content_hash,
                        )
                        for c, t in zip(update.chunks, update.terms, strict=True)
                    ],
                )  # fmt: skip
                self.db.executemany(
                    "INSERT OR REPLACE INTO dense_units VALUES (?, ?, ?, ?)",
                    [(u.id, u.path, u.chunk_id, u.text) for u in update.dense],
                )
                self.db.execute(
                    "INSERT OR REPLACE INTO file_words VALUES (?, ?, ?)",
                    (s.path, json.dumps(update.word_counts), json.dumps(update.symbols)),
                )
            for unit in refreshed:  # file cards recomputed for unchanged files
                self.db.execute("DELETE FROM dense_units WHERE path = ? AND chunk_id IS NULL", (unit.path,))
                self.db.execute(
                    "INSERT OR REPLACE INTO dense_units VALUES (?, ?, ?, ?)",
                    (unit.id, unit.path, unit.chunk_id, unit.text),
                )
            for s in touched:  # unchanged content, new mtime: remember it to skip the read next time
                self.db.execute(
                    "UPDATE files SET mtime_ns = ?, size = ? WHERE path = ?", (s.mtime_ns, s.size, s.path)
                )
            self.db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?)", list(state.items()))
            self.db.execute("DELETE FROM skipped")
            self.db.executemany(
                "INSERT INTO skipped VALUES (?, ?, ?)",
                [(reason, n, json.dumps(ex)) for reason, (n, ex) in skipped.items()],
            )

    def _remove(self, path: str) -> None:
        self.db.execute("DELETE FROM files WHERE path = ?", (path,))
        self.db.execute("DELETE FROM chunks WHERE path = ?", (path,))
        self.db.execute("DELETE FROM dense_units WHERE path = ?", (path,))
        self.db.execute("DELETE FROM file_words WHERE path = ?", (path,))


class EmbeddingCache:
    """Vectors keyed by a hash of (model, text): unchanged text is never embedded twice."""

    def __init__(self, index_dir: Path, dimension: int) -> None:
        index_dir.mkdir(parents=True, exist_ok=True)
        self.dimension = dimension
        self.db = sqlite3.connect(index_dir / "embeddings.sqlite", check_same_thread=False, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self.db.commit()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            batch = list(keys[start : start + 500])
            marks = ",".join("?" * len(batch))
            for key, blob in self.db.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({marks})", batch
            ):
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape == (self.dimension,):
                    found[key] = vec
        return found

    def put_many(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items],
            )

    def prune(self, keep: set[str]) -> int:
        """Drop vectors no indexed text uses any more (keeps the cache from growing forever)."""
        stale = [k for (k,) in self.db.execute("SELECT key FROM vectors") if k not in keep]
        with self.db:
            self.db.executemany("DELETE FROM vectors WHERE key = ?", [(k,) for k in stale])
        return len(stale)

    def close(self) -> None:
        self.db.close()
