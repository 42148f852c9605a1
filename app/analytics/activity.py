"""How the assistant is used: conversations and messages per day, questions versus actions, the
tools it calls, how proposals are decided and how fast, how long a turn takes, what users think of
the answers, and the questions it answered from weak context.

Definitions (one place, so every figure means the same everywhere):
- a *message* is a turn started by a user's own message (decisions are not messages);
- an *action* message proposed at least one change; a *question* proposed none;
- of the proposals made in the period, *approved* ones are those the user approved (they then
  succeeded, failed, or are still executing), and approval, rejection and expiry rates are shares
  of the proposals decided one way or another; the *failure rate* is the share of approved ones
  whose execution failed;
- *time to decision* runs from the proposal to the approval or rejection (expiry is not a decision);
- *latency* is a message's wall time, from the user's message to the end of the answer;
- a *weak-context* question is one whose best retrieved passage's dense similarity is below a
  threshold (or that retrieved nothing): worth a look, the docs may lack the answer.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from app.analytics.numbers import percentile, ratio
from app.analytics.scope import Period, Scope
from app.store.db import Store

APPROVED = ("approved", "executing", "succeeded", "failed")
WEAK_CONTEXT_BELOW = 0.40  # MiniLM cosine: unrelated text scores about 0 to 0.25, an on-topic passage 0.4+


def per_day(store: Store, scope: Scope, period: Period) -> pd.DataFrame:
    """Every day of the period: conversations started, messages, of which questions and actions."""
    conversations = store.reports.conversations_per_day(scope.organization_id, period.since, period.until)
    turns = store.reports.turns_per_day(scope.organization_id, period.since, period.until)
    rows = []
    for day in period.days:
        messages, actions = turns.get(day, (0, 0))
        rows.append({"day": day, "conversations": conversations.get(day, 0), "messages": messages,
                     "questions": messages - actions, "actions": actions})  # fmt: skip
    return pd.DataFrame(rows, columns=["day", "conversations", "messages", "questions", "actions"])


def turn_figures(store: Store, scope: Scope, period: Period) -> dict[str, Any]:
    """Latency percentiles and tool counts over the period's messages."""
    facts = store.reports.turn_facts(scope.organization_id, period.since, period.until)
    latencies = [float(latency) for latency, _, _ in facts if latency is not None]
    tools: Counter[str] = Counter()
    for _, _, names in facts:
        tools.update(str(n) for n in names or [])
    return {
        "messages": len(facts),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
        "top_tools": pd.DataFrame(tools.most_common(10), columns=["tool", "calls"]),
    }


def action_figures(store: Store, scope: Scope, period: Period) -> dict[str, Any]:
    """How the period's proposals were decided, and how long deciding took."""
    counts = store.reports.action_statuses(scope.organization_id, period.since, period.until)
    approved = sum(counts.get(s, 0) for s in APPROVED)
    rejected, expired = counts.get("rejected", 0), counts.get("expired", 0)
    decided = approved + rejected + expired
    delays = [
        (decided_at - created_at).total_seconds()
        for created_at, decided_at in store.reports.decision_delays(
            scope.organization_id, period.since, period.until
        )
    ]
    return {
        "proposed": sum(counts.values()),
        "pending": counts.get("pending", 0),
        "approved": approved,
        "rejected": rejected,
        "expired": expired,
        "failed": counts.get("failed", 0),
        "approval_rate": ratio(approved, decided),
        "rejection_rate": ratio(rejected, decided),
        "expiry_rate": ratio(expired, decided),
        "failure_rate": ratio(counts.get("failed", 0), approved),
        "decision_p50_s": percentile(delays, 50),
        "decision_p95_s": percentile(delays, 95),
    }


def feedback_figures(store: Store, scope: Scope, period: Period) -> dict[str, Any]:
    counts = store.reports.feedback_counts(scope.organization_id, period.since, period.until)
    up, down = counts.get(1, 0), counts.get(-1, 0)
    return {"up": up, "down": down, "positive": ratio(up, up + down)}


def weak_context_questions(store: Store, scope: Scope, period: Period, below: float = WEAK_CONTEXT_BELOW,
                           limit: int = 50) -> pd.DataFrame:  # fmt: skip
    rows = store.reports.weak_context(scope.organization_id, period.since, period.until, below, limit)
    people = store.directory.many(r.user_id for r in rows)
    return pd.DataFrame(
        [
            {"at": r.started_at, "question": r.label,
             "best_similarity": float("nan") if r.context_score is None else r.context_score,
             "user": people[r.user_id].label if r.user_id in people else r.user_id, "conversation": r.conversation_id}
            for r in rows
        ],
        columns=["at", "question", "best_similarity", "user", "conversation"],
    )  # fmt: skip
