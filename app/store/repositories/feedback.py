"""Thumbs up / down on assistant messages.

One vote per user and message: voting again replaces the earlier vote (an upsert), so the
analytics page counts opinions, not clicks.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from app.store.errors import NotFoundError
from app.store.models import Feedback
from app.store.records import FeedbackData
from app.store.types import new_id

if TYPE_CHECKING:
    from app.store.sessions import SessionSource


class FeedbackRepository:
    def __init__(self, db: SessionSource) -> None:
        self._db = db

    def add(
        self,
        conversation_id: str,
        message_seq: int,
        user_id: str,
        rating: int,
        comment: str | None = None,
        *,
        at: datetime | None = None,
    ) -> FeedbackData:
        """Record (or replace) `user_id`'s rating of message `message_seq`: +1 or -1."""
        if rating not in (1, -1):
            raise ValueError(f"rating must be +1 or -1, not {rating!r}")
        at = at or self._db.clock()
        insert: Any = postgresql.insert if self._db.dialect == "postgresql" else sqlite.insert
        stmt = (
            insert(Feedback)
            .values(
                id=new_id(),
                at=at,
                conversation_id=conversation_id,
                message_seq=message_seq,
                user_id=user_id,
                rating=rating,
                comment=comment,
            )
            .on_conflict_do_update(
                index_elements=["conversation_id", "message_seq", "user_id"],
                set_={"rating": rating, "comment": comment, "at": at},
            )
            .returning(Feedback)
        )
        try:
            with self._db.write() as session:
                row = session.scalars(stmt, execution_options={"populate_existing": True}).one()
                return FeedbackData.of(row)
        except IntegrityError as exc:  # the only other constraint is the conversation's foreign key
            raise NotFoundError(f"conversation {conversation_id!r} does not exist") from exc

    def list(
        self,
        *,
        conversation_id: str | None = None,
        user_id: str | None = None,
        rating: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 200,
    ) -> list[FeedbackData]:
        """Feedback matching every given filter, newest first; `since` <= at < `until`."""
        stmt = self._filtered(select(Feedback), conversation_id, user_id, rating, since, until)
        stmt = stmt.order_by(Feedback.at.desc(), Feedback.id).limit(limit)
        with self._db.read() as session:
            return [FeedbackData.of(row) for row in session.scalars(stmt)]

    def counts(
        self,
        *,
        conversation_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, int]:
        """{"up": n, "down": m} over the filter, for the analytics page."""
        stmt = self._filtered(
            select(Feedback.rating, func.count()), conversation_id, None, None, since, until
        ).group_by(Feedback.rating)
        with self._db.read() as session:
            found = {int(rating): int(n) for rating, n in session.execute(stmt).all()}
        return {"up": found.get(1, 0), "down": found.get(-1, 0)}

    @staticmethod
    def _filtered(
        stmt: Any,
        conversation_id: str | None,
        user_id: str | None,
        rating: int | None,
        since: datetime | None,
        until: datetime | None,
    ) -> Any:
        if conversation_id is not None:
            stmt = stmt.where(Feedback.conversation_id == conversation_id)
        if user_id is not None:
            stmt = stmt.where(Feedback.user_id == user_id)
        if rating is not None:
            stmt = stmt.where(Feedback.rating == rating)
        if since is not None:
            stmt = stmt.where(Feedback.at >= since)
        if until is not None:
            stmt = stmt.where(Feedback.at < until)
        return stmt
