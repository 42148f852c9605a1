"""Browser sessions of the dashboard: a reload keeps the user signed in until their token expires.

The browser holds a random secret in a cookie; only its sha256 is stored, so a copy of the
database does not hand out sessions.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete

from app.store.models import WebSession
from app.store.records import WebSessionData

if TYPE_CHECKING:
    from app.store.sessions import SessionSource


def _key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class WebSessionRepository:
    def __init__(self, db: SessionSource) -> None:
        self._db = db

    def create(
        self, secret: str, *, user_id: str, user: dict[str, Any], expires_at: datetime
    ) -> WebSessionData:
        row = WebSession(
            id=_key(secret),
            user_id=user_id,
            user=dict(user),
            created_at=self._db.clock(),
            expires_at=expires_at,
        )
        with self._db.write() as session:
            session.add(row)
            session.flush()
            return WebSessionData.of(row)

    def get(self, secret: str) -> WebSessionData | None:
        """The live session for this secret; an expired one is removed and None returned."""
        key = _key(secret)
        with self._db.read() as session:
            row = session.get(WebSession, key)
            found = None if row is None else WebSessionData.of(row)
        if found is not None and found.expires_at <= self._db.clock():
            self.delete(secret)
            return None
        return found

    def delete(self, secret: str) -> bool:
        with self._db.write() as session:
            result = session.execute(delete(WebSession).where(WebSession.id == _key(secret)))
            return bool(getattr(result, "rowcount", 0))

    def purge_expired(self) -> int:
        with self._db.write() as session:
            result = session.execute(delete(WebSession).where(WebSession.expires_at <= self._db.clock()))
            return int(getattr(result, "rowcount", 0) or 0)
