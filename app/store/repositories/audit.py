"""The audit log: every proposal, decision, execution and refusal, append-only.

Events are free-form short strings so new ones need no migration; the ones the assistant writes
are listed in AUDIT_EVENTS for the dashboard's filter.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.store.models import AuditEntry
from app.store.records import AuditEntryData

if TYPE_CHECKING:
    from app.store.sessions import SessionSource

AUDIT_EVENTS = (
    "proposed",
    "edited",
    "approved",
    "rejected",
    "expired",
    "executing",
    "executed",
    "failed",
    "refused",
)


class AuditRepository:
    def __init__(self, db: SessionSource) -> None:
        self._db = db

    def add(
        self,
        event: str,
        *,
        user_id: str | None = None,
        organization_id: str | None = None,
        conversation_id: str | None = None,
        action_id: str | None = None,
        details: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEntryData:
        if not event or len(event) > 32:
            raise ValueError(f"audit event must be 1-32 characters, got {event!r}")
        row = AuditEntry(
            at=at or self._db.clock(),
            user_id=user_id,
            organization_id=organization_id,
            conversation_id=conversation_id,
            action_id=action_id,
            event=event,
            details=dict(details or {}),
        )
        with self._db.write() as session:
            session.add(row)
            session.flush()
            return AuditEntryData.of(row)

    def list(
        self,
        *,
        user_id: str | None = None,
        organization_id: str | None = None,
        conversation_id: str | None = None,
        action_id: str | None = None,
        event: str | Collection[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 200,
        newest_first: bool = True,
    ) -> list[AuditEntryData]:
        """Entries matching every given filter, in time order; `since` <= at < `until`."""
        stmt = select(AuditEntry)
        if user_id is not None:
            stmt = stmt.where(AuditEntry.user_id == user_id)
        if organization_id is not None:
            stmt = stmt.where(AuditEntry.organization_id == organization_id)
        if conversation_id is not None:
            stmt = stmt.where(AuditEntry.conversation_id == conversation_id)
        if action_id is not None:
            stmt = stmt.where(AuditEntry.action_id == action_id)
        if event is not None:
            stmt = stmt.where(AuditEntry.event.in_([event] if isinstance(event, str) else list(event)))
        if since is not None:
            stmt = stmt.where(AuditEntry.at >= since)
        if until is not None:
            stmt = stmt.where(AuditEntry.at < until)
        order = AuditEntry.at.desc() if newest_first else AuditEntry.at.asc()
        stmt = stmt.order_by(order, AuditEntry.id).limit(limit)
        with self._db.read() as session:
            return [AuditEntryData.of(row) for row in session.scalars(stmt)]
