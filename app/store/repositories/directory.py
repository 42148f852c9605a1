"""The user directory: who a user id is, as seen at their last sign-in.

Usage, conversations and actions are keyed by the platform's user ids; the dashboard shows people
by name and email and filters by organization, without asking the platform for every id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app.store.models import DirectoryEntry
from app.store.records import DirectoryData

if TYPE_CHECKING:
    from app.store.sessions import SessionSource


class DirectoryRepository:
    def __init__(self, db: SessionSource) -> None:
        self._db = db

    def remember(self, *, user_id: str, email: str, full_name: str, role: str, organization_id: str | None,
                 organization_name: str) -> None:  # fmt: skip
        """Insert or refresh the entry of a user who just signed in."""
        values: dict[str, Any] = {
            "user_id": user_id, "email": email, "full_name": full_name, "role": role,
            "organization_id": organization_id, "organization_name": organization_name,
            "last_seen_at": self._db.clock(),
        }  # fmt: skip
        insert: Any = postgresql.insert if self._db.dialect == "postgresql" else sqlite.insert
        stmt = insert(DirectoryEntry).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["user_id"], set_={k: v for k, v in values.items() if k != "user_id"}
        )
        with self._db.write() as session:
            session.execute(stmt)

    def get(self, user_id: str) -> DirectoryData | None:
        with self._db.read() as session:
            row = session.get(DirectoryEntry, user_id)
            return None if row is None else DirectoryData.of(row)

    def many(self, user_ids: Iterable[str]) -> dict[str, DirectoryData]:
        ids = sorted({u for u in user_ids if u})
        if not ids:
            return {}
        with self._db.read() as session:
            rows = session.scalars(select(DirectoryEntry).where(DirectoryEntry.user_id.in_(ids)))
            return {row.user_id: DirectoryData.of(row) for row in rows}

    def list(self, organization_id: str | None = None) -> list[DirectoryData]:
        stmt = select(DirectoryEntry).order_by(DirectoryEntry.email)
        if organization_id is not None:
            stmt = stmt.where(DirectoryEntry.organization_id == organization_id)
        with self._db.read() as session:
            return [DirectoryData.of(row) for row in session.scalars(stmt)]

    def organizations(self) -> dict[str, str]:
        """Organization id -> name, as users of each were last seen."""
        stmt = select(DirectoryEntry.organization_id, DirectoryEntry.organization_name).where(
            DirectoryEntry.organization_id.is_not(None)
        )
        with self._db.read() as session:
            return {str(org): str(name or org) for org, name in session.execute(stmt)}
