"""Usage and cost: tokens and dollars over time by model, user and organization; the share of input
read from the cache; budget use today; the cost of a typical conversation; a CSV export.

Tokens: `input` excludes cache reads and writes (see app.usage.usage), so the input a model was
sent is input + cache read + cache write, and the cache share is cache read over that sum.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Literal

import pandas as pd

from app.analytics.numbers import percentile, ratio
from app.analytics.scope import Period, Scope
from app.store.db import Store
from app.store.repositories.usage import utc_day_start

By = Literal["model", "user", "organization"]
TOKEN_COLUMNS = ["input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens"]
COLUMNS = ["calls", *TOKEN_COLUMNS, "cost_usd", "unpriced_calls", "estimated_calls"]
CSV_HEADER = [
    "at", "organization_id", "user_id", "conversation_id", "provider", "model", "input_tokens",
    "output_tokens", "cache_write_tokens", "cache_read_tokens", "latency_ms", "cost_usd", "estimated",
]  # fmt: skip


def labels(store: Store, by: By, keys: list[str | None]) -> dict[str | None, str]:
    """How a user or organization id is shown: a name where the directory knows it, else the id."""
    if by == "user":
        known = store.directory.many(k for k in keys if k)
        return {k: (known[k].label if k in known else (k or "(no user)")) for k in keys}
    if by == "organization":
        names = store.directory.organizations()
        return {k: names.get(k or "", k or "(no organization)") for k in keys}
    return {k: k or "(unknown)" for k in keys}


def usage_by_day(store: Store, scope: Scope, period: Period, by: By) -> pd.DataFrame:
    """One row per day and model (or user, or organization) with calls, tokens and cost."""
    rows = store.usage.grouped(
        ("day", by), since=period.since, until=period.until, organization_id=scope.organization_id
    )
    frame = pd.DataFrame(rows, columns=["day", by, *COLUMNS])
    frame["label"] = frame[by].map(labels(store, by, list(frame[by].unique()))) if not frame.empty else []
    return frame.sort_values(["day", "label"]).reset_index(drop=True)


def totals_by(frame: pd.DataFrame, by: By) -> pd.DataFrame:
    """The per-day frame summed per key, most expensive first (cost None where nothing was priced)."""
    if frame.empty:
        return pd.DataFrame(columns=["label", *COLUMNS, "cache_share"])
    summed = frame.groupby("label", as_index=False).agg(
        {
            **{c: "sum" for c in ["calls", *TOKEN_COLUMNS, "unpriced_calls", "estimated_calls"]},
            "cost_usd": lambda s: s.sum(min_count=1),
        }
    )
    summed["cache_share"] = [
        ratio(r.cache_read_tokens, r.input_tokens + r.cache_read_tokens + r.cache_write_tokens)
        for r in summed.itertuples()
    ]
    return summed.sort_values(["cost_usd", "calls"], ascending=False, na_position="last").reset_index(
        drop=True
    )


def overall(frame: pd.DataFrame) -> dict[str, float | int | None]:
    """Totals of the per-day frame: calls, tokens, cost (None if nothing priced), unpriced calls, cache share."""
    sums = {
        c: int(frame[c].sum()) if not frame.empty else 0
        for c in ["calls", *TOKEN_COLUMNS, "unpriced_calls", "estimated_calls"]
    }
    priced = frame["cost_usd"].dropna() if not frame.empty else pd.Series(dtype=float)
    sent = sums["input_tokens"] + sums["cache_read_tokens"] + sums["cache_write_tokens"]
    return {
        **sums,
        "cost_usd": float(priced.sum()) if len(priced) else None,
        "cache_share": ratio(sums["cache_read_tokens"], sent),
    }


def cache_share_by_day(frame: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Per day: the share of the input sent to models that was read from the cache (None: no input)."""
    per_day = (
        frame.groupby("day")[TOKEN_COLUMNS].sum() if not frame.empty else pd.DataFrame(columns=TOKEN_COLUMNS)
    )
    rows = []
    for day in period.days:
        if day in per_day.index:
            r = per_day.loc[day]
            sent = int(r.input_tokens + r.cache_read_tokens + r.cache_write_tokens)
            rows.append(
                {"day": day, "cache_share": ratio(int(r.cache_read_tokens), sent), "input_sent": sent}
            )
        else:
            rows.append({"day": day, "cache_share": None, "input_sent": 0})
    return pd.DataFrame(rows)


def budget_use(store: Store, scope: Scope, daily_budget_usd: float, now: datetime) -> pd.DataFrame:
    """Today's spend per user against the daily budget, with their organization, highest share first."""
    since = utc_day_start(now)
    rows = store.usage.grouped(
        ("user", "organization"), since=since, until=now, organization_id=scope.organization_id
    )
    frame = pd.DataFrame(rows, columns=["user", "organization", *COLUMNS])
    if frame.empty:
        return pd.DataFrame(columns=["user", "organization", "spent_usd", "budget_usd", "used"])
    frame["user"] = frame["user"].map(labels(store, "user", list(frame["user"].unique())))
    frame["organization"] = frame["organization"].map(
        labels(store, "organization", list(frame["organization"].unique()))
    )
    frame["spent_usd"] = frame["cost_usd"].fillna(0.0)
    frame["budget_usd"] = daily_budget_usd if daily_budget_usd > 0 else None
    frame["used"] = [ratio(s, daily_budget_usd) if daily_budget_usd > 0 else None for s in frame["spent_usd"]]
    return (
        frame[["user", "organization", "spent_usd", "budget_usd", "used"]]
        .sort_values("spent_usd", ascending=False)
        .reset_index(drop=True)
    )


def budget_by_organization(per_user: pd.DataFrame) -> pd.DataFrame:
    """Today's spend per organization and how many of its users reached their budget."""
    if per_user.empty:
        return pd.DataFrame(columns=["organization", "users", "spent_usd", "at_budget"])
    at_budget = per_user["used"].fillna(0) >= 1.0
    grouped = per_user.assign(at_budget=at_budget).groupby("organization", as_index=False)
    return grouped.agg(
        users=("user", "count"), spent_usd=("spent_usd", "sum"), at_budget=("at_budget", "sum")
    )


def conversation_costs(store: Store, scope: Scope, period: Period) -> pd.DataFrame:
    """What each conversation with model calls in the period cost (None: nothing priced)."""
    rows = store.usage.grouped(
        ("conversation",), since=period.since, until=period.until, organization_id=scope.organization_id
    )
    return pd.DataFrame(rows, columns=["conversation", *COLUMNS])


def typical_conversation(costs: pd.DataFrame) -> dict[str, float | int | None]:
    """The median, mean and 90th percentile cost of a conversation (priced conversations only)."""
    priced = [float(c) for c in costs["cost_usd"].dropna()] if not costs.empty else []
    tokens = [int(sum(r)) for r in costs[TOKEN_COLUMNS].itertuples(index=False)] if not costs.empty else []
    return {
        "conversations": len(costs),
        "priced": len(priced),
        "median_usd": percentile(priced, 50),
        "mean_usd": sum(priced) / len(priced) if priced else None,
        "p90_usd": percentile(priced, 90),
        "median_tokens": percentile(tokens, 50),
    }


def usage_csv(store: Store, scope: Scope, period: Period) -> Iterator[str]:
    """The period's recorded model calls as CSV, a chunk of lines at a time (exports can be large)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for n, row in enumerate(store.reports.usage_rows(scope.organization_id, period.since, period.until), 1):
        values = list(row)
        values[0] = values[0].isoformat()
        cost = values[-2]
        values[-2] = "" if cost is None else format(Decimal(cost).normalize(), "f")
        values[-1] = "yes" if values[-1] else ""  # the server reported no usage: counts estimated
        writer.writerow(values)
        if n % 2000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
