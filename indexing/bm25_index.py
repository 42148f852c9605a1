"""The persisted BM25 index over every chunk's full text (bm25s, sparse matrices).

BM25 covers what the embedder cannot afford to read: all of every chunk. It is rebuilt from the
terms stored in the catalog (no re-tokenizing of unchanged files), which takes about a second for
tens of thousands of chunks, into a fresh folder; the catalog then points at the new folder in the
build's final transaction, so a reader never sees a half-written index.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)

K1 = 1.2
B = 0.75


class LexicalIndex:
    """A loaded BM25 index and the chunk id of each of its documents."""

    def __init__(self, retriever: bm25s.BM25 | None, chunk_ids: list[str]) -> None:
        self._retriever = retriever
        self.chunk_ids = chunk_ids

    @staticmethod
    def build(terms: Sequence[list[str]], chunk_ids: list[str], folder: Path) -> LexicalIndex:
        folder.mkdir(parents=True, exist_ok=True)
        retriever: bm25s.BM25 | None = None
        if chunk_ids:
            retriever = bm25s.BM25(k1=K1, b=B)
            retriever.index([list(t) or ["\x00empty"] for t in terms], show_progress=False)
            retriever.save(str(folder), show_progress=False)
        (folder / "chunk_ids.json").write_text(json.dumps(chunk_ids))
        return LexicalIndex(retriever, chunk_ids)

    @staticmethod
    def load(folder: Path) -> LexicalIndex:
        chunk_ids = json.loads((folder / "chunk_ids.json").read_text())
        retriever = bm25s.BM25.load(str(folder), show_progress=False) if chunk_ids else None
        return LexicalIndex(retriever, chunk_ids)

    def search(self, terms: list[str], k: int) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) best first; only chunks that share a term with the query."""
        if self._retriever is None or not terms:
            return []
        vocab = self._retriever.vocab_dict
        known = [t for t in terms if t in vocab]
        if not known:
            return []
        k = min(k, len(self.chunk_ids))
        docs, scores = self._retriever.retrieve([known], k=k, show_progress=False, n_threads=1)
        out = []
        for doc, score in zip(np.asarray(docs[0]).tolist(), np.asarray(scores[0]).tolist(), strict=True):
            if score <= 0:
                break
            out.append((self.chunk_ids[int(doc)], float(score)))
        return out


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
