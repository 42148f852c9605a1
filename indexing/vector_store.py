"""The Chroma collection holding the dense vectors.

Embedded (PersistentClient under the index folder) by default; a Chroma server (HttpClient) when
CHROMA_HOST is set, for several processes or machines sharing one index. Chroma's own embedding
function is never used (it downloads a model at run time): vectors are computed here and passed in.

The collection may hold vectors of a build that has not committed yet, or of chunks a committed
build dropped and has not cleaned up: readers therefore keep only ids the catalog lists.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
logging.getLogger("chromadb").setLevel(logging.ERROR)

BATCH = 2000


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
        if host:
            self.client: Any = chromadb.HttpClient(host=host, port=port, settings=settings)
            self.location = f"chroma server {host}:{port}, collection {collection}"
        else:
            path = index_dir / "chroma"
            path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(path), settings=settings)
            self.location = f"{path} (embedded), collection {collection}"
        self.collection = self.client.get_or_create_collection(
            collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )

    def count(self) -> int:
        return int(self.collection.count())

    def ids(self) -> set[str]:
        found: set[str] = set()
        offset = 0
        while True:
            got = self.collection.get(limit=10_000, offset=offset, include=[])
            batch = got["ids"]
            found.update(batch)
            if len(batch) < 10_000:
                return found
            offset += len(batch)

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, paths: Sequence[str]) -> None:
        for start in range(0, len(ids), BATCH):
            end = start + BATCH
            self.collection.upsert(
                ids=list(ids[start:end]),
                embeddings=vectors[start:end],
                metadatas=[{"path": p} for p in paths[start:end]],
            )

    def delete(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), BATCH):
            self.collection.delete(ids=list(ids[start : start + BATCH]))

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """(id, cosine similarity) best first."""
        n = self.count()
        if n == 0:
            return []
        got = self.collection.query(
            query_embeddings=vector.reshape(1, -1), n_results=min(k, n), include=["distances"]
        )
        ids = got["ids"][0]
        distances = got["distances"][0] if got.get("distances") else [1.0] * len(ids)
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]
