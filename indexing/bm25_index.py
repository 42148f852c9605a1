"""The persisted BM25 index over every chunk's full text: a bm25s base plus a small delta.

BM25 covers what the embedder cannot afford to read: all of every chunk. A full build indexes all
chunks with bm25s (about a second for tens of thousands of chunks). Re-indexing everything for a
one-file change would cost that second again, so small changes are written as a delta instead:
the base's chunks of changed or deleted files are masked out, and the changed files' chunks are
scored at query time with the same formula (bm25s' "lucene" variant) using the base's collection
statistics. The approximation (N, average length and document frequencies of the base) drifts by
a fraction of a percent per change; once the delta holds more than DELTA_LIMIT of the corpus the
builder writes a fresh base.

Every generation writes new files and the catalog points at them in the build's final
transaction, so a reader never sees a half-written index.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)

K1 = 1.2
B = 0.75
DELTA_LIMIT = 0.05  # share of the base's chunks a delta may touch before a full rebuild


@dataclass(frozen=True)
class BaseStats:
    n_docs: int
    avg_len: float


class LexicalIndex:
    """A loaded BM25 index (base, optionally with a delta) mapping results to chunk ids."""

    def __init__(
        self,
        base: bm25s.BM25 | None,
        base_ids: list[str],
        stats: BaseStats,
        removed: set[str] | None = None,
        delta: Sequence[tuple[str, list[str]]] = (),
    ) -> None:
        self._base = base
        self.base_ids = base_ids
        self.stats = stats
        self.removed = removed or set()
        self.delta = list(delta)
        self._mask: np.ndarray | None = None
        if self.removed and base_ids:
            self._mask = np.array([0.0 if cid in self.removed else 1.0 for cid in base_ids], dtype=np.float32)
        self._delta_tf = [Counter(terms) for _, terms in self.delta]
        self._delta_len = [len(terms) for _, terms in self.delta]
        self._delta_df: Counter[str] = Counter()
        for tf in self._delta_tf:
            self._delta_df.update(tf.keys())

    @property
    def chunk_ids(self) -> list[str]:
        live = [cid for cid in self.base_ids if cid not in self.removed]
        return live + [cid for cid, _ in self.delta]

    # --- building ------------------------------------------------------------------------------
    @staticmethod
    def build_base(terms: Sequence[list[str]], chunk_ids: list[str], folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if chunk_ids:
            retriever = bm25s.BM25(k1=K1, b=B)
            retriever.index([list(t) or ["\x00empty"] for t in terms], show_progress=False)
            retriever.save(str(folder), show_progress=False)
        lengths = [max(1, len(t)) for t in terms]
        stats = {"n_docs": len(chunk_ids), "avg_len": (sum(lengths) / len(lengths)) if lengths else 1.0}
        (folder / "chunk_ids.json").write_text(json.dumps(chunk_ids))
        (folder / "stats.json").write_text(json.dumps(stats))

    @staticmethod
    def write_delta(
        path: Path, base: str, removed: Sequence[str], docs: Sequence[tuple[str, list[str]]]
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"base": base, "removed": sorted(removed), "docs": [[cid, t] for cid, t in docs]}
        path.write_text(json.dumps(payload))

    @staticmethod
    def read_delta(path: Path) -> tuple[str, list[str], list[tuple[str, list[str]]]]:
        data = json.loads(path.read_text())
        return data["base"], list(data["removed"]), [(d[0], list(d[1])) for d in data["docs"]]

    @staticmethod
    def base_chunk_ids(folder: Path) -> list[str]:
        ids: list[str] = json.loads((folder / "chunk_ids.json").read_text())
        return ids

    # --- loading -------------------------------------------------------------------------------
    @staticmethod
    def load(base_folder: Path, delta_file: Path | None = None) -> LexicalIndex:
        base_ids: list[str] = json.loads((base_folder / "chunk_ids.json").read_text())
        raw = json.loads((base_folder / "stats.json").read_text())
        stats = BaseStats(int(raw["n_docs"]), float(raw["avg_len"]))
        retriever = bm25s.BM25.load(str(base_folder), show_progress=False) if base_ids else None
        removed: set[str] = set()
        docs: list[tuple[str, list[str]]] = []
        if delta_file is not None:
            _, removed_list, docs = LexicalIndex.read_delta(delta_file)
            removed = set(removed_list)
        return LexicalIndex(retriever, base_ids, stats, removed, docs)

    # --- searching -----------------------------------------------------------------------------
    def search(self, terms: list[str], k: int) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) best first; only chunks that share a term with the query."""
        if not terms:
            return []
        ids: list[str] = []
        scores: list[np.ndarray] = []
        if self._base is not None:
            known = [t for t in terms if t in self._base.vocab_dict]
            if known:
                scores.append(
                    np.asarray(self._base.get_scores(known, weight_mask=self._mask), dtype=np.float32)
                )
                ids.extend(self.base_ids)
        if self.delta:
            scores.append(self._delta_scores(terms))
            ids.extend(cid for cid, _ in self.delta)
        if not scores:
            return []
        all_scores = np.concatenate(scores)
        k = min(k, len(all_scores))
        top = np.argpartition(-all_scores, k - 1)[:k] if k < len(all_scores) else np.arange(len(all_scores))
        top = top[np.argsort(-all_scores[top], kind="stable")]
        return [(ids[i], float(all_scores[i])) for i in top if all_scores[i] > 0]

    def _delta_scores(self, terms: list[str]) -> np.ndarray:
        """The delta's chunks scored like bm25s' "lucene" BM25, with the base's statistics."""
        n = max(1, self.stats.n_docs)
        avg = self.stats.avg_len or 1.0
        base = self._base
        out = np.zeros(len(self.delta), dtype=np.float32)
        for term in terms:
            df = self._delta_df.get(term, 0)
            if base is not None and term in base.vocab_dict:
                tid = base.vocab_dict[term]
                lo, hi = int(base.scores["indptr"][tid]), int(base.scores["indptr"][tid + 1])
                if self._mask is None:
                    df += hi - lo
                else:  # the masked (changed or deleted) base chunks no longer count
                    df += int(self._mask[base.scores["indices"][lo:hi]].sum())
            if df == 0:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            for i, tf in enumerate(self._delta_tf):
                f = tf.get(term, 0)
                if f:
                    norm = K1 * ((1 - B) + B * self._delta_len[i] / avg)
                    out[i] += idf * f / (norm + f)
        return out


def remove_path(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
