"""What the Retrieval lab measures: rankings side by side, evaluation runs, replays of past turns.

An evaluation run records the index it ran against (generation, embedding model, build time) and
the settings it used (top-k, fusion weights), and the question set by content hash, so the lab
compares a run only with runs of the same questions, index and settings: a change of any of them
makes figures incomparable, and the lab says so instead of drawing a misleading trend.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from app.retrieval.hybrid import FusionWeights
from app.retrieval.service import RetrievalService
from app.store.db import Store
from app.store.records import EvalRunData
from indexing.evaluation import KS, Question, distinct, normalize, summarize

Progress = Callable[[int, int], None]
RANKERS = {
    "bm25": "BM25",
    "dense_chunks": "Dense (chunk cards)",
    "dense_files": "Dense (file cards)",
    "dense_passages": "Dense (chunk text)",
    "dense_rerank": "Dense rerank (best files' text)",
    "coverage": "Coverage of the question's words (head)",
    "kind_hint": "Files of the kind asked for (config, SQL)",
    "fused": "Fused (RRF)",
}
METRICS = [f"recall@{k}" for k in KS] + ["mrr@10"]


def questions_sha(questions: Sequence[Question]) -> str:
    """A hash of the questions' content (ids, texts, gold, kinds): the same set hashes the same."""
    digest = hashlib.sha256()
    for q in sorted(questions, key=lambda q: q.id):
        digest.update(f"{q.id}\x1f{q.question}\x1f{'|'.join(sorted(q.gold))}\x1f{q.kind}\x1e".encode())
    return digest.hexdigest()


def parse_questions(text: str, name: str) -> list[Question]:
    """Questions from JSONL text (an upload); ValueError naming the bad line."""
    import json

    questions = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            gold = row["gold"]
            if not isinstance(gold, list) or not gold:
                raise ValueError("gold must be a non-empty list of paths")
            questions.append(
                Question(
                    str(row["id"]), str(row["question"]), [str(g) for g in gold], str(row.get("kind", "?"))
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{name}, line {n}: not a question ({exc}). Each line is "
                             '{"id": ..., "question": ..., "gold": [paths], "kind": ...}') from exc  # fmt: skip
    if not questions:
        raise ValueError(f"{name}: no questions in it")
    return questions


def ranking_table(rankings: dict[str, list[tuple[str, float]]], depth: int = 10) -> pd.DataFrame:
    """Rank 1..depth with each ranker's file and score in columns, side by side."""
    rows = []
    for rank in range(1, depth + 1):
        row: dict[str, Any] = {"rank": rank}
        for key, label in RANKERS.items():
            ranked = rankings.get(key, [])
            path, score = ranked[rank - 1] if len(ranked) >= rank else (None, None)
            row[label] = path
            row[f"{label} score"] = score
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class EvalResult:
    metrics: dict[str, dict[str, float]]  # group ("overall", then each kind) -> metric -> value (and n)
    results: list[dict[str, Any]]  # per question: id, kind, gold, first gold rank (None), top files
    seconds: float


def evaluate(service: RetrievalService, questions: Sequence[Question], k: int, weights: FusionWeights,
             progress: Progress | None = None) -> EvalResult:  # fmt: skip
    """Run every question through the retriever (depth max(k, 10)) and score it like the shared evaluator."""
    started = time.perf_counter()
    retrieved: dict[str, list[str]] = {}
    per_question = []
    depth = max(k, max(KS))
    for i, q in enumerate(questions, 1):
        result = service.search(q.question, depth, weights=weights)
        paths = distinct(c.path for c in result.chunks) if result else []
        retrieved[q.id] = paths
        wanted = {normalize(g) for g in q.gold}
        first = next((rank for rank, p in enumerate(paths[:10], 1) if p in wanted), None)
        per_question.append({"id": q.id, "kind": q.kind, "question": q.question, "gold": q.gold,
                             "first_gold_rank": first, "top": paths[:k]})  # fmt: skip
        if progress:
            progress(i, len(questions))
    return EvalResult(summarize(questions, retrieved), per_question, round(time.perf_counter() - started, 2))


def record_run(store: Store, service: RetrievalService, name: str, questions: Sequence[Question], k: int,
               weights: FusionWeights, outcome: EvalResult, user_id: str | None) -> EvalRunData:  # fmt: skip
    return store.eval_runs.add(
        user_id=user_id, name=name, questions_sha=questions_sha(questions), questions=len(questions),
        index_fingerprint=service.fingerprint(), settings={"k": k, **asdict(weights)},
        metrics=outcome.metrics, results=outcome.results, seconds=outcome.seconds,
    )  # fmt: skip


def metrics_frame(metrics: dict[str, dict[str, float]]) -> pd.DataFrame:
    """One row per group (overall first, then each kind): n and every metric."""
    return pd.DataFrame(
        [
            {"group": group, "n": int(values.get("n", 0)), **{m: values.get(m) for m in METRICS}}
            for group, values in metrics.items()
        ],
        columns=["group", "n", *METRICS],
    )


def comparable(runs: Sequence[EvalRunData], to: EvalRunData) -> list[EvalRunData]:
    """The runs (oldest first) that measured what `to` measured: same questions, index and settings."""
    return sorted((r for r in runs if r.comparable_key == to.comparable_key), key=lambda r: r.at)


def history_frame(runs: Sequence[EvalRunData]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"at": r.at, "run": r.id[:8], **{m: r.metrics.get("overall", {}).get(m) for m in METRICS}}
            for r in runs
        ],
        columns=["at", "run", *METRICS],
    )


def replay_diff(before: Sequence[dict[str, Any]], after: Sequence[str]) -> pd.DataFrame:
    """A past turn's retrieved files (in their order then) against today's ranking of its query."""
    then = [c["path"] for c in before]
    then_rank = {p: i for i, p in enumerate(distinct(then), 1)}
    now_rank = {p: i for i, p in enumerate(distinct(after), 1)}
    rows = []
    for path in list(dict.fromkeys([*then_rank, *now_rank])):
        a, b = then_rank.get(path), now_rank.get(path)
        if a is None:
            change = "new"
        elif b is None:
            change = "dropped"
        elif a == b:
            change = "same"
        else:
            change = f"up {a - b}" if b < a else f"down {b - a}"
        rows.append({"file": path, "then": a, "now": b, "change": change})
    return (
        pd.DataFrame(rows, columns=["file", "then", "now", "change"])
        .sort_values(["now", "then"], na_position="last")
        .reset_index(drop=True)
    )


def file_excerpt(
    source: Path | None, path: str, start: int, end: int, around: int = 20
) -> tuple[int, str] | None:
    """Lines start-around .. end+around of a file in the indexed tree: (first line number, text)."""
    if source is None:
        return None
    target = (source / path).resolve()
    if source.resolve() not in target.parents or not target.is_file():
        return None
    try:
        lines = target.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    first = max(1, start - around)
    last = min(len(lines), end + around)
    return first, "\n".join(lines[first - 1 : last])
