"""Conversations and their messages.

A conversation's messages are numbered 1, 2, 3, ... by `seq`, which is what the history loader,
the summarizer (`summarized_upto_seq`) and feedback (`message_seq`) refer to. `append_message`
allocates the next number atomically: it first updates the conversation row (which locks it on
PostgreSQL; SQLite write transactions hold the database write lock from BEGIN IMMEDIATE), then
reads the highest seq, so two threads appending at once get consecutive numbers, never the same
one. A unique (conversation_id, seq) constraint backs this up.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from app.store.errors import NotFoundError
from app.store.models import MESSAGE_ROLES, Conversation, MessageRecord
from app.store.records import ConversationData, MessageData

if TYPE_CHECKING:
    from app.store.sessions import SessionSource


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def touch_conversation(session: Session, conversation_id: str, now: datetime) -> None:
    """Set `updated_at`, which also takes the conversation's row lock (PostgreSQL) before the caller
    reads the next number of something in it; NotFoundError if there is no such conversation."""
    touched = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(touched) == 0:
        raise NotFoundError(f"conversation {conversation_id!r} does not exist")


class ConversationRepository:
    def __init__(self, db: SessionSource) -> None:
        self._db = db

    def create(
        self,
        user_id: str,
        organization_id: str | None = None,
        *,
        title: str = "",
        provider: str | None = None,
        model: str | None = None,
        conversation_id: str | None = None,
    ) -> ConversationData:
        now = self._db.clock()
        row = Conversation(
            user_id=user_id,
            organization_id=organization_id,
            title=title,
            summary="",
            summarized_upto_seq=0,
            provider=provider,
            model=model,
            created_at=now,
            updated_at=now,
        )
        if conversation_id is not None:
            row.id = conversation_id
        with self._db.write() as session:
            session.add(row)
            session.flush()
            return ConversationData.of(row)

    def get(self, conversation_id: str) -> ConversationData | None:
        with self._db.read() as session:
            row = session.get(Conversation, conversation_id)
            return None if row is None else ConversationData.of(row)

    def list_for_user(
        self,
        user_id: str,
        *,
        organization_id: str | None = None,
        title_contains: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[ConversationData]:
        """The user's conversations, most recently active first (titles containing a text, any case)."""
        stmt = select(Conversation).where(Conversation.user_id == user_id)
        if organization_id is not None:
            stmt = stmt.where(Conversation.organization_id == organization_id)
        if title_contains:
            stmt = stmt.where(
                func.lower(Conversation.title).contains(title_contains.lower(), autoescape=True)
            )
        stmt = (
            stmt.order_by(Conversation.updated_at.desc(), Conversation.created_at.desc(), Conversation.id)
            .limit(limit)
            .offset(offset)
        )
        with self._db.read() as session:
            return [ConversationData.of(row) for row in session.scalars(stmt)]

    def append_message(
        self,
        conversation_id: str,
        role: str,
        content: Sequence[dict[str, Any]],
        metadata: dict[str, Any] | None = None,
    ) -> MessageData:
        """Store a message under the next seq of its conversation and touch `updated_at`.

        Raises NotFoundError if the conversation does not exist, ValueError for a role other than
        "user" or "assistant".
        """
        if role not in MESSAGE_ROLES:
            raise ValueError(f"role must be one of {MESSAGE_ROLES}, not {role!r}")
        with self._db.write() as session:
            now = self._db.clock()
            touch_conversation(session, conversation_id, now)
            last = session.scalar(
                select(func.coalesce(func.max(MessageRecord.seq), 0)).where(
                    MessageRecord.conversation_id == conversation_id
                )
            )
            row = MessageRecord(
                conversation_id=conversation_id,
                seq=int(last or 0) + 1,
                role=role,
                content=list(content),
                meta=dict(metadata or {}),
                created_at=now,
            )
            session.add(row)
            session.flush()
            return MessageData.of(row)

    def list_messages(
        self, conversation_id: str, *, after_seq: int = 0, limit: int | None = None, last: int | None = None
    ) -> list[MessageData]:
        """Messages in seq order: all of them, those after `after_seq`, or only the `last` n."""
        stmt = select(MessageRecord).where(
            MessageRecord.conversation_id == conversation_id, MessageRecord.seq > after_seq
        )
        if last is not None:
            stmt = stmt.order_by(MessageRecord.seq.desc()).limit(last)
        else:
            stmt = stmt.order_by(MessageRecord.seq)
            if limit is not None:
                stmt = stmt.limit(limit)
        with self._db.read() as session:
            rows = [MessageData.of(row) for row in session.scalars(stmt)]
        return sorted(rows, key=lambda m: m.seq) if last is not None else rows

    def count_messages(self, conversation_id: str) -> int:
        stmt = select(func.count()).where(MessageRecord.conversation_id == conversation_id)
        with self._db.read() as session:
            return int(session.scalar(stmt) or 0)

    def annotate_message(self, message_id: str, **metadata: Any) -> bool:
        """Add keys to a stored message's metadata (its content never changes once stored).

        A turn stores the user's message first, so it is never lost, and attaches what it worked
        out for it (the retrieved context it is sent with) once it has it."""
        with self._db.write() as session:
            row = session.get(MessageRecord, message_id)
            if row is None:
                return False
            row.meta = {**(row.meta or {}), **metadata}
            return True

    def set_title(self, conversation_id: str, title: str) -> bool:
        return self._update(conversation_id, title=title)

    def set_summary(self, conversation_id: str, summary: str, upto_seq: int) -> bool:
        """Record the condensed history covering messages 1..upto_seq."""
        return self._update(conversation_id, summary=summary, summarized_upto_seq=upto_seq)

    def set_model(self, conversation_id: str, provider: str | None, model: str | None) -> bool:
        return self._update(conversation_id, provider=provider, model=model)

    def delete(self, conversation_id: str) -> bool:
        """Delete a conversation with its messages, actions and feedback (usage and audit stay)."""
        with self._db.write() as session:
            result = session.execute(
                delete(Conversation)
                .where(Conversation.id == conversation_id)
                .execution_options(synchronize_session=False)
            )
            return _rowcount(result) > 0

    def _update(self, conversation_id: str, **values: Any) -> bool:
        with self._db.write() as session:
            result = session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(updated_at=self._db.clock(), **values)
                .execution_options(synchronize_session=False)
            )
            return _rowcount(result) > 0
