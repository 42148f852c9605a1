"""The Chroma collection holding the dense vectors.

Embedded (PersistentClient under the index folder) by default; a Chroma server (HttpClient) when
CHROMA_HOST is set, for several processes or machines sharing one index. Chroma's own embedding
function is never used (it downloads a model at run time): vectors are computed here and passed in.

The collection may hold vectors of a build that has not committed yet, or of chunks a committed
build dropped and has not cleaned up: readers therefore keep only ids the catalog lists.

Where the vectors live is part of the index (`VectorLocation`, recorded by the builder): a reader
configured for another place gets a clear error instead of an empty store (issue 11: an index
built into a server and read without CHROMA_HOST answered from BM25 alone and left an empty
local Chroma folder behind). A server that cannot be reached raises `VectorStoreUnavailableError`,
naming CHROMA_HOST and the address tried; readers degrade to BM25 on it, builds stop on it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
logging.getLogger("chromadb").setLevel(logging.ERROR)

BATCH = 2000
CONNECT_TIMEOUT_S = 3.0  # Chroma's own client waits forever for a host that does not answer
STATE_KEY = "vector_backend"
T = TypeVar("T")


class VectorStoreUnavailableError(ConnectionError, RuntimeError):
    """The Chroma server configured by CHROMA_HOST/CHROMA_PORT cannot be reached. (A RuntimeError
    too, so `python -m indexing` prints its message instead of a traceback.)"""


class VectorLocationError(RuntimeError):
    """The index's vectors live somewhere other than where this process is configured to look."""


@dataclass(frozen=True)
class VectorLocation:
    """Where an index's vectors live: its own folder ("embedded") or a Chroma server."""

    kind: Literal["embedded", "server"]
    collection: str
    host: str = ""
    port: int = 0

    @classmethod
    def configured(cls, host: str | None, port: int, collection: str) -> VectorLocation:
        return cls("server", collection, host, port) if host else cls("embedded", collection)

    @classmethod
    def recorded(cls, state: dict[str, str]) -> VectorLocation | None:
        """What the builder recorded; indexes built before the structured record are read from
        their description ("chroma server h:p, collection c" / "<path> (embedded), collection c")."""
        raw = state.get(STATE_KEY)
        if raw:
            data = json.loads(raw)
            return cls(data["kind"], data["collection"], data.get("host", ""), int(data.get("port", 0)))
        old = state.get("vector_location") or ""
        m = re.fullmatch(r"chroma server (.+):(\d+), collection (.+)", old)
        if m:
            return cls("server", m[3], m[1], int(m[2]))
        m = re.fullmatch(r".* \(embedded\), collection (.+)", old)
        return cls("embedded", m[1]) if m else None

    def to_state(self) -> str:
        return json.dumps(
            {"kind": self.kind, "collection": self.collection, "host": self.host, "port": self.port}
        )

    def describe(self) -> str:
        if self.kind == "server":
            return f"the Chroma server at {self.host}:{self.port} (collection {self.collection!r})"
        return f"the index folder's own Chroma store (collection {self.collection!r})"

    def check(self, configured: VectorLocation, index_dir: Path) -> None:
        """Raise a VectorLocationError that says what to set when `configured` is not here."""
        if configured == self:
            return
        if self.kind == "server":
            fix = f"set CHROMA_HOST={self.host} and CHROMA_PORT={self.port}"
        else:
            fix = "unset CHROMA_HOST"
        if self.collection != configured.collection:
            fix += f" and CHROMA_COLLECTION={self.collection}"
        raise VectorLocationError(
            f"the index at {index_dir} keeps its vectors in {self.describe()}, but this process is "
            f"configured for {configured.describe()}: {fix}, or rebuild the index with "
            "`python -m indexing build` under the current settings"
        )


def probe_server(host: str, port: int, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Fail fast, with the setting to check, when nothing answers at CHROMA_HOST:CHROMA_PORT."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as exc:
        raise unavailable(host, port, exc) from exc


def unavailable(host: str, port: int, exc: BaseException) -> VectorStoreUnavailableError:
    return VectorStoreUnavailableError(
        f"the Chroma server at {host}:{port} (CHROMA_HOST={host}, CHROMA_PORT={port}) cannot be "
        f"reached: {exc}"
    )


class VectorStore:
    def __init__(
        self,
        index_dir: Path,
        collection: str = "codebase",
        host: str | None = None,
        port: int = 8000,
    ) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        settings = ChromaSettings(anonymized_telemetry=False)
        self.where = VectorLocation.configured(host, port, collection)
        self._server = (host, port) if host else None
        if host:
            probe_server(host, port)
            self.client: Any = self._call(
                lambda: chromadb.HttpClient(host=host, port=port, settings=settings)
            )
            self.location = f"chroma server {host}:{port}, collection {collection}"
        else:
            path = index_dir / "chroma"
            path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(path), settings=settings)
            self.location = f"{path} (embedded), collection {collection}"
        self.collection = self._call(
            lambda: self.client.get_or_create_collection(
                collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        )

    def _call(self, fn: Callable[[], T]) -> T:
        """Run a client call; on a server, a lost connection becomes VectorStoreUnavailableError
        (Chroma raises ValueError("Could not connect ..."), httpx errors or ConnectionError)."""
        if self._server is None:
            return fn()
        try:
            return fn()
        except Exception as exc:
            import httpx

            if isinstance(exc, (httpx.TransportError, ConnectionError)) or "connect" in str(exc).lower():
                raise unavailable(*self._server, exc) from exc
            raise

    def count(self) -> int:
        return int(self._call(self.collection.count))

    def ids(self) -> set[str]:
        found: set[str] = set()
        offset = 0
        while True:
            got = self._call(partial(self.collection.get, limit=10_000, offset=offset, include=[]))
            batch = got["ids"]
            found.update(batch)
            if len(batch) < 10_000:
                return found
            offset += len(batch)

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, paths: Sequence[str]) -> None:
        for start in range(0, len(ids), BATCH):
            end = start + BATCH
            self._call(
                partial(
                    self.collection.upsert,
                    ids=list(ids[start:end]),
                    embeddings=vectors[start:end],
                    metadatas=[{"path": p} for p in paths[start:end]],
                )
            )

    def delete(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), BATCH):
            self._call(partial(self.collection.delete, ids=list(ids[start : start + BATCH])))

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """(id, cosine similarity) best first."""
        n = self.count()
        if n == 0:
            return []
        got = self._call(
            lambda: self.collection.query(
                query_embeddings=vector.reshape(1, -1), n_results=min(k, n), include=["distances"]
            )
        )
        ids = got["ids"][0]
        distances = got["distances"][0] if got.get("distances") else [1.0] * len(ids)
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]
