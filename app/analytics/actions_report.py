"""Every pending and past action, filtered, with its audit trail."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from app.analytics.scope import Period, Scope
from app.store.db import Store
from app.store.records import AuditEntryData, PendingActionData

COLUMNS = [
    "created_at",
    "status",
    "tool",
    "preview",
    "user",
    "organization",
    "decided_at",
    "risk",
    "attempts",
    "id",
]


@dataclass(frozen=True)
class ActionFilter:
    user_id: str | None = None
    tool: str | None = None
    statuses: tuple[str, ...] = ()


def actions(
    store: Store, scope: Scope, period: Period, where: ActionFilter, limit: int = 500
) -> list[PendingActionData]:
    return store.reports.actions(
        scope.organization_id, period.since, period.until, user_id=where.user_id, tool=where.tool,
        statuses=list(where.statuses) or None, limit=limit,
    )  # fmt: skip


def action_rows(store: Store, found: list[PendingActionData]) -> pd.DataFrame:
    """A table of actions, newest first, with people and organizations by name."""
    people = store.directory.many(a.user_id for a in found)
    orgs = store.directory.organizations()
    return pd.DataFrame(
        [
            {
                "created_at": a.created_at, "status": a.status, "tool": a.tool, "preview": a.preview,
                "user": people[a.user_id].label if a.user_id in people else a.user_id,
                "organization": orgs.get(a.organization_id or "", a.organization_id or ""),
                "decided_at": a.decided_at, "risk": a.risk, "attempts": a.attempts, "id": a.id,
            }
            for a in found
        ],
        columns=COLUMNS,
    )  # fmt: skip


def audit_rows(entries: list[AuditEntryData]) -> pd.DataFrame:
    """An action's trail: when, what happened, and the details recorded with it."""
    return pd.DataFrame(
        [{"at": e.at, "event": e.event, "details": _details(e.details)} for e in entries],
        columns=["at", "event", "details"],
    )


def people_in_scope(store: Store, scope: Scope) -> dict[str, str]:
    """User id -> label of everyone the directory knows in the scope (for the user filter)."""
    return {d.user_id: d.label for d in store.directory.list(scope.organization_id)}


def _details(details: dict[str, object]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in details.items())
