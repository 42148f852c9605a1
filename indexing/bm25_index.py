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
from collections.abc import Mapping, Sequence
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
        self._positions: dict[str, int] | None = None  # base chunk id -> position, when asked
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
    def search(
        self, terms: list[str], k: int, extra: Sequence[str] = (), extra_weight: float = 0.0
    ) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) best first; only chunks that share a term with the query.

        `extra` terms (a bridged vocabulary, see indexing.search.vocabulary) add their own BM25
        score times `extra_weight`."""
        extra = [t for t in extra if t not in terms] if extra_weight > 0 else []
        if not terms and not extra:
            return []
        ids: list[str] = []
        scores: list[np.ndarray] = []
        if self._base is not None:
            base_scores = self._base_scores(terms)
            if extra:
                more = self._base_scores(extra)
                if more is not None:
                    more *= extra_weight
                    base_scores = more if base_scores is None else base_scores + more
            if base_scores is not None:
                scores.append(base_scores)
                ids.extend(self.base_ids)
        if self.delta:
            delta_scores = self._delta_scores(terms)
            if extra:
                delta_scores += extra_weight * self._delta_scores(extra)
            scores.append(delta_scores)
            ids.extend(cid for cid, _ in self.delta)
        if not scores:
            return []
        all_scores = np.concatenate(scores)
        k = min(k, len(all_scores))
        top = np.argpartition(-all_scores, k - 1)[:k] if k < len(all_scores) else np.arange(len(all_scores))
        top = top[np.argsort(-all_scores[top], kind="stable")]
        return [(ids[i], float(all_scores[i])) for i in top if all_scores[i] > 0]

    def _base_scores(self, terms: Sequence[str]) -> np.ndarray | None:
        assert self._base is not None
        known = [t for t in terms if t in self._base.vocab_dict]
        if not known:
            return None
        return np.asarray(self._base.get_scores(known, weight_mask=self._mask), dtype=np.float32)

    def coverage(
        self,
        terms: Sequence[str],
        groups: Mapping[str, Sequence[str]],
        extra: Sequence[str] = (),
        extra_weight: float = 0.0,
    ) -> dict[str, float]:
        """How much of the query each group of chunks (a file) covers, between 0 and 1 (plus
        `extra_weight` times the same share of the `extra` terms).

        A group's coverage is the IDF-weighted share of the query's distinct terms that occur in
        at least one of its chunks, wherever they occur. BM25 scores chunk by chunk and saturates
        on a term repeated; a question often has several parts ("which ports ... and how long
        are metrics kept") that one file answers in several places. Terms no chunk has count
        for nothing. Groups with no query term are left out.
        """
        covered: dict[str, float] = {}
        extra = [t for t in dict.fromkeys(extra) if t not in terms] if extra_weight > 0 else []
        for words, weight in ((list(dict.fromkeys(terms)), 1.0), (extra, extra_weight)):
            if not words:
                continue
            share = self._coverage(words, groups)
            for name, value in share.items():
                covered[name] = covered.get(name, 0.0) + weight * value
        return covered

    def _coverage(self, terms: Sequence[str], groups: Mapping[str, Sequence[str]]) -> dict[str, float]:
        base_pos = self._base_positions()
        delta_pos = {cid: i for i, (cid, _) in enumerate(self.delta)}
        names = list(groups)
        positions: list[int] = []
        labels: list[int] = []
        delta_members: list[tuple[int, int]] = []  # (group, delta index)
        for g, name in enumerate(names):
            for cid in groups[name]:
                if cid in delta_pos:
                    delta_members.append((g, delta_pos[cid]))
                elif cid in base_pos and cid not in self.removed:
                    positions.append(base_pos[cid])
                    labels.append(g)
        # base position -> group (-1: in no group), so a term's postings map to groups directly
        group_of = np.full(len(self.base_ids), -1, dtype=np.int64)
        group_of[np.asarray(positions, dtype=np.int64)] = np.asarray(labels, dtype=np.int64)
        found = np.zeros(len(names), dtype=np.float64)
        total = 0.0
        for term in terms:
            idf = self._idf(term)
            if idf is None:
                continue
            total += idf
            has = np.zeros(len(names), dtype=bool)
            postings = self._postings(term)
            if postings is not None and positions:
                hit = group_of[postings]
                has[hit[hit >= 0]] = True
            for g, i in delta_members:
                if self._delta_tf[i].get(term):
                    has[g] = True
            found += idf * has
        if total <= 0:
            return {}
        return {name: float(found[g] / total) for g, name in enumerate(names) if found[g] > 0}

    def _base_positions(self) -> dict[str, int]:
        if self._positions is None:
            self._positions = {cid: i for i, cid in enumerate(self.base_ids)}
        return self._positions

    def _postings(self, term: str) -> np.ndarray | None:
        """The base documents (positions) that contain `term`, masked ones included."""
        base = self._base
        if base is None or term not in base.vocab_dict:
            return None
        tid = base.vocab_dict[term]
        lo, hi = int(base.scores["indptr"][tid]), int(base.scores["indptr"][tid + 1])
        postings: np.ndarray = base.scores["indices"][lo:hi]
        return postings

    def _idf(self, term: str) -> float | None:
        """bm25s' "lucene" IDF of a term over the base (less its masked chunks) and the delta;
        None when no chunk has it."""
        df = self._delta_df.get(term, 0)
        base = self._base
        if base is not None and term in base.vocab_dict:
            tid = base.vocab_dict[term]
            lo, hi = int(base.scores["indptr"][tid]), int(base.scores["indptr"][tid + 1])
            if self._mask is None:
                df += hi - lo
            else:  # the masked (changed or deleted) base chunks no longer count
                df += int(self._mask[base.scores["indices"][lo:hi]].sum())
        if df == 0:
            return None
        n = max(1, self.stats.n_docs)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def _delta_scores(self, terms: Sequence[str]) -> np.ndarray:
        """The delta's chunks scored like bm25s' "lucene" BM25, with the base's statistics."""
        avg = self.stats.avg_len or 1.0
        out = np.zeros(len(self.delta), dtype=np.float32)
        for term in terms:
            idf = self._idf(term)
            if idf is None:
                continue
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
