"""Aggregate queries behind the operator pages (usage has its own in `usage.py`).

Every query is filtered by an optional organization and a time range and grouped by the database;
what comes back is small (a row per day, per status, per turn of a bounded list), so the pages stay
fast as the tables grow. Indexes serving them: conversations (user_id, updated_at) and created_at,
turns started_at, pending_actions (status, expires_at) and (user_id, created_at), audit_log at,
feedback (conversation_id, message_seq, user_id).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select

from app.store.models import AuditEntry, Conversation, Feedback, PendingAction, Turn, UsageRecord
from app.store.types import day_of

if TYPE_CHECKING:
    from app.store.sessions import SessionSource


class ReportRepository:
    def __init__(self, db: SessionSource) -> None:
        self._db = db

    def _rows(self, stmt: Any) -> builtins.list[Any]:
        with self._db.read() as session:
            return list(session.execute(stmt).all())

    # --- activity ------------------------------------------------------------------------------
    def conversations_per_day(
        self, organization_id: str | None, since: datetime, until: datetime
    ) -> dict[str, int]:
        day = day_of(Conversation.created_at, self._db.dialect)
        stmt = select(day, func.count()).where(
            Conversation.created_at >= since, Conversation.created_at < until
        )
        if organization_id is not None:
            stmt = stmt.where(Conversation.organization_id == organization_id)
        return {str(d): int(n) for d, n in self._rows(stmt.group_by(day))}

    def turns_per_day(
        self, organization_id: str | None, since: datetime, until: datetime
    ) -> dict[str, tuple[int, int]]:
        """Day -> (messages, of which proposed an action): the users' own messages only."""
        day = day_of(Turn.started_at, self._db.dialect)
        acted = func.sum(case((Turn.proposals > 0, 1), else_=0))
        stmt = select(day, func.count(), acted).where(*self._turns(organization_id, since, until))
        return {str(d): (int(n), int(a or 0)) for d, n, a in self._rows(stmt.group_by(day))}

    def turn_facts(self, organization_id: str | None, since: datetime, until: datetime) -> builtins.list[Any]:
        """(latency_ms, proposals, tools) of every user message in the range, for percentiles and tool counts."""
        stmt = select(Turn.latency_ms, Turn.proposals, Turn.tools).where(
            *self._turns(organization_id, since, until)
        )
        return self._rows(stmt)

    def weak_context(self, organization_id: str | None, since: datetime, until: datetime, below: float,
                     limit: int) -> builtins.list[Any]:  # fmt: skip
        """Questions whose best retrieved passage scored below `below` (or found nothing), weakest first."""
        stmt = (
            select(Turn.started_at, Turn.label, Turn.context_score, Turn.conversation_id, Turn.user_id)
            .where(
                *self._turns(organization_id, since, until), Turn.proposals == 0, Turn.status == "completed"
            )
            .where((Turn.context_score < below) | Turn.context_score.is_(None))
            .order_by(Turn.context_score.is_not(None), Turn.context_score, Turn.started_at.desc())
            .limit(limit)
        )
        return self._rows(stmt)

    def recent_turns(self, organization_id: str | None, limit: int = 100) -> builtins.list[Any]:
        """The latest finished user messages (with their stored views), newest first."""
        stmt = select(Turn).where(Turn.kind == "message", Turn.status != "running", Turn.view.is_not(None))
        if organization_id is not None:
            stmt = stmt.where(Turn.organization_id == organization_id)
        stmt = stmt.order_by(Turn.started_at.desc()).limit(limit)
        with self._db.read() as session:
            from app.store.records import TurnData

            return [TurnData.of(row) for row in session.scalars(stmt)]

    def _turns(self, organization_id: str | None, since: datetime, until: datetime) -> builtins.list[Any]:
        conditions = [Turn.kind == "message", Turn.started_at >= since, Turn.started_at < until]
        if organization_id is not None:
            conditions.append(Turn.organization_id == organization_id)
        return conditions

    # --- actions -------------------------------------------------------------------------------
    def action_statuses(
        self, organization_id: str | None, since: datetime, until: datetime
    ) -> dict[str, int]:
        stmt = select(PendingAction.status, func.count()).where(*self._actions(organization_id, since, until))
        return {str(s): int(n) for s, n in self._rows(stmt.group_by(PendingAction.status))}

    def decision_delays(
        self, organization_id: str | None, since: datetime, until: datetime
    ) -> builtins.list[Any]:
        """(created_at, decided_at) of every action a user decided on (approved or rejected)."""
        stmt = select(PendingAction.created_at, PendingAction.decided_at).where(
            *self._actions(organization_id, since, until),
            PendingAction.decided_at.is_not(None),
            PendingAction.status != "expired",
        )
        return self._rows(stmt)

    def actions(self, organization_id: str | None, since: datetime, until: datetime, *, user_id: str | None = None,
                tool: str | None = None, statuses: builtins.list[str] | None = None, limit: int = 500) -> builtins.list[Any]:  # fmt: skip
        stmt = select(PendingAction).where(*self._actions(organization_id, since, until))
        if user_id:
            stmt = stmt.where(PendingAction.user_id == user_id)
        if tool:
            stmt = stmt.where(PendingAction.tool == tool)
        if statuses:
            stmt = stmt.where(PendingAction.status.in_(statuses))
        stmt = stmt.order_by(PendingAction.created_at.desc(), PendingAction.id).limit(limit)
        with self._db.read() as session:
            from app.store.records import PendingActionData

            return [PendingActionData.of(row) for row in session.scalars(stmt)]

    def action_tools(self, organization_id: str | None) -> builtins.list[str]:
        stmt = select(PendingAction.tool).distinct()
        if organization_id is not None:
            stmt = stmt.where(PendingAction.organization_id == organization_id)
        return sorted(str(t) for (t,) in self._rows(stmt))

    def _actions(self, organization_id: str | None, since: datetime, until: datetime) -> builtins.list[Any]:
        conditions = [PendingAction.created_at >= since, PendingAction.created_at < until]
        if organization_id is not None:
            conditions.append(PendingAction.organization_id == organization_id)
        return conditions

    # --- feedback and audit --------------------------------------------------------------------
    def feedback_counts(
        self, organization_id: str | None, since: datetime, until: datetime
    ) -> dict[int, int]:
        stmt = select(Feedback.rating, func.count()).where(Feedback.at >= since, Feedback.at < until)
        if organization_id is not None:
            stmt = stmt.join(Conversation, Conversation.id == Feedback.conversation_id).where(
                Conversation.organization_id == organization_id
            )
        return {int(r): int(n) for r, n in self._rows(stmt.group_by(Feedback.rating))}

    def audit_of(self, action_id: str) -> builtins.list[Any]:
        stmt = (
            select(AuditEntry).where(AuditEntry.action_id == action_id).order_by(AuditEntry.at, AuditEntry.id)
        )
        with self._db.read() as session:
            from app.store.records import AuditEntryData

            return [AuditEntryData.of(row) for row in session.scalars(stmt)]

    # --- usage (raw rows, for export) ----------------------------------------------------------
    def usage_rows(self, organization_id: str | None, since: datetime, until: datetime) -> Iterator[Any]:
        """Every recorded model call in the range, oldest first, streamed (an export can be large)."""
        stmt = select(
            UsageRecord.at, UsageRecord.organization_id, UsageRecord.user_id, UsageRecord.conversation_id,
            UsageRecord.provider, UsageRecord.model, UsageRecord.input_tokens, UsageRecord.output_tokens,
            UsageRecord.cache_write_tokens, UsageRecord.cache_read_tokens, UsageRecord.latency_ms, UsageRecord.cost_usd,
            UsageRecord.estimated,
        ).where(UsageRecord.at >= since, UsageRecord.at < until)  # fmt: skip
        if organization_id is not None:
            stmt = stmt.where(UsageRecord.organization_id == organization_id)
        stmt = stmt.order_by(UsageRecord.at, UsageRecord.id)
        with self._db.read() as session:
            yield from session.execute(stmt.execution_options(yield_per=5000))
