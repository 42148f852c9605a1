"""Retrieval quality on a question set: recall@1/5/10 and MRR@10, overall and per kind.

Same definitions as the platform team's evaluator (../shared/bench/eval_retrieval.py), so the
figures `python -m indexing eval` prints are comparable with theirs: the ranked list is first
de-duplicated to distinct files, recall@k is 1 when any gold file is among the first k files, and
MRR@10 is 1/rank of the first gold file within the first 10 (0 if none).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KS = (1, 5, 10)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    gold: list[str]
    kind: str


def normalize(path: str) -> str:
    path = path.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


def distinct(paths: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for p in paths:
        p = normalize(p)
        if p and p not in seen:
            seen.add(p)
            out.append(p)
    return out


def score(gold: Sequence[str], retrieved: Sequence[str]) -> dict[str, float]:
    wanted = {normalize(g) for g in gold}
    first = next((i for i, p in enumerate(distinct(retrieved)[: max(KS)], 1) if p in wanted), None)
    out = {f"recall@{k}": 1.0 if first is not None and first <= k else 0.0 for k in KS}
    out["mrr@10"] = 1.0 / first if first is not None else 0.0
    return out


def load_questions(path: Path) -> list[Question]:
    questions = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(
                Question(str(row["id"]), str(row["question"]), list(row["gold"]), str(row.get("kind", "?")))
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a question line ({exc})") from exc
    if not questions:  # nothing to measure: say so rather than print an empty table
        raise ValueError(f"{path}: no questions in this file")
    return questions


def summarize(questions: Sequence[Question], results: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """Mean of each metric per group ("overall" first, then each kind), with the group size as n."""
    groups: dict[str, list[dict[str, float]]] = {"overall": []}
    for kind in sorted({q.kind for q in questions}):
        groups[kind] = []
    for q in questions:
        s = score(q.gold, results.get(q.id, []))
        groups["overall"].append(s)
        groups[q.kind].append(s)
    table: dict[str, dict[str, float]] = {}
    for name, rows in groups.items():
        if rows:
            table[name] = {key: sum(r[key] for r in rows) / len(rows) for key in rows[0]}
            table[name]["n"] = float(len(rows))
    return table


def format_table(table: dict[str, dict[str, Any]]) -> str:
    cols = [f"recall@{k}" for k in KS] + ["mrr@10"]
    lines = [f"{'group':<15}{'n':>4}  " + "  ".join(f"{c:>9}" for c in cols)]
    lines.append("-" * len(lines[0]))
    for name, row in table.items():
        lines.append(f"{name:<15}{int(row['n']):>4}  " + "  ".join(f"{row[c]:>9.3f}" for c in cols))
    overall = table.get("overall")
    if overall:
        lines.append(f"recall@5={overall['recall@5']:.3f} mrr@10={overall['mrr@10']:.3f}")
    return "\n".join(lines)
