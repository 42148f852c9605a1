"""SQLAlchemy models of everything the assistant persists.

One set of typed models for SQLite and PostgreSQL (see `types.py` for the portable columns). The
models are the storage shape only: repositories hand out frozen snapshots (`records.py`), never
these rows, so no caller depends on a session being open.

Schema history (see `migrations.py`): version 1 is the tables with their keys, unique constraints
and foreign-key indexes; version 2 added the indexes named in `QUERY_INDEXES`, which serve the
dashboard's date-range totals, the per-user conversation list and action expiry; version 3 added
turns, their numbered events and browser sessions (`TURN_TABLES`), and what each pending action
will change (`pending_actions.changes`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.store.types import JSONType, Money, UTCDateTime, new_id, utcnow

ID = String(36)
PRINCIPAL = String(128)  # user and organization ids come from the platform; kept as text

ACTION_STATUSES = ("pending", "approved", "executing", "succeeded", "failed", "rejected", "expired")
ACTION_RISKS = ("write", "destructive")
MESSAGE_ROLES = ("user", "assistant")
TURN_KINDS = ("message", "decision")
TURN_STATUSES = ("running", "completed", "cancelled", "error")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    pass


class SchemaVersion(Base):
    """One row per schema version applied to this database; the highest is the current one."""

    __tablename__ = "schema_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    description: Mapped[str] = mapped_column(String(200))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(PRINCIPAL)
    organization_id: Mapped[str | None] = mapped_column(PRINCIPAL, nullable=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    # Condensed older history, and the last message seq it covers (0: nothing condensed yet).
    summary: Mapped[str] = mapped_column(Text, default="")
    summarized_upto_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    provider: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model: Mapped[str | None] = mapped_column(String(128), nullable=True)

    __table_args__ = (
        Index("ix_conversations_user_updated", "user_id", "updated_at"),
        Index("ix_conversations_org_created", "organization_id", "created_at"),
    )


class MessageRecord(Base):
    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ID, ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    # The provider-neutral content blocks of app.providers.base.Message.to_dict()["content"].
    content: Mapped[list[Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Citations, events and anything else the UI shows beside the message.
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)

    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        CheckConstraint(_in("role", MESSAGE_ROLES), name="ck_messages_role"),
    )


class PendingAction(Base):
    __tablename__ = "pending_actions"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(
        ID, ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(PRINCIPAL)
    organization_id: Mapped[str | None] = mapped_column(PRINCIPAL, nullable=True)
    tool: Mapped[str] = mapped_column(String(100))
    arguments: Mapped[dict[str, Any]] = mapped_column(JSONType)
    preview: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    risk: Mapped[str] = mapped_column(String(16))
    # The resource name a destructive action must have typed back before it may run.
    confirm_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(PRINCIPAL, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[Any | None] = mapped_column(JSONType, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # What approving will change, worked out against the platform's current state when proposed or
    # edited: [{"target", "field", "before", "after"}]. NULL for actions proposed before version 3.
    changes: Mapped[list[Any] | None] = mapped_column(JSONType, nullable=True)

    __table_args__ = (
        CheckConstraint(_in("status", ACTION_STATUSES), name="ck_pending_actions_status"),
        CheckConstraint(_in("risk", ACTION_RISKS), name="ck_pending_actions_risk"),
        Index("ix_pending_actions_status_expires", "status", "expires_at"),
        Index("ix_pending_actions_user_created", "user_id", "created_at"),
        Index("ix_pending_actions_org_created", "organization_id", "created_at"),
    )


class AuditEntry(Base):
    """An append-only log line. No foreign keys: the log must outlive what it talks about."""

    __tablename__ = "audit_log"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[str | None] = mapped_column(PRINCIPAL, nullable=True)
    organization_id: Mapped[str | None] = mapped_column(PRINCIPAL, nullable=True)
    conversation_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    action_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    event: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    __table_args__ = (Index("ix_audit_log_at", "at"),)


class UsageRecord(Base):
    """One model call. No foreign keys: spend must stay on the books if a conversation is deleted."""

    __tablename__ = "usage_records"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    conversation_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    user_id: Mapped[str | None] = mapped_column(PRINCIPAL, nullable=True)
    organization_id: Mapped[str | None] = mapped_column(PRINCIPAL, nullable=True)
    provider: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(128))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    # NULL when the model has no price: unknown, never zero.
    cost_usd: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    # The server reported no usage: the token counts (and so the cost) are an estimate.
    estimated: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    __table_args__ = (
        Index("ix_usage_records_at", "at"),
        Index("ix_usage_records_user_at", "user_id", "at"),
        Index("ix_usage_records_org_at", "organization_id", "at"),
        Index("ix_usage_records_conversation", "conversation_id"),
    )


class Feedback(Base):
    """A user's thumbs up or down on one assistant message; one per user and message."""

    __tablename__ = "feedback"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    conversation_id: Mapped[str] = mapped_column(ID, ForeignKey("conversations.id", ondelete="CASCADE"))
    message_seq: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(PRINCIPAL)
    rating: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_feedback_at", "at"),
        UniqueConstraint("conversation_id", "message_seq", "user_id", name="uq_feedback_message_user"),
        CheckConstraint("rating IN (-1, 1)", name="ck_feedback_rating"),
    )


class Turn(Base):
    """One unit of work in a conversation: a user's message answered, or a decision carried out.

    At most one turn per conversation runs at a time (a partial unique index on the running ones),
    whichever process started it. `heartbeat_at` is refreshed while it runs, so a turn whose
    process died is recognised as interrupted. `view` is the turn's folded read model, written
    when it ends, so a long conversation renders without replaying its events.
    """

    __tablename__ = "turns"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ID, ForeignKey("conversations.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    # The user's message, or a decision in words ("Approved: Create track ...").
    label: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[str] = mapped_column(PRINCIPAL)
    organization_id: Mapped[str | None] = mapped_column(PRINCIPAL, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="running")
    stop: Mapped[str | None] = mapped_column(String(32), nullable=True)
    owner: Mapped[str] = mapped_column(String(200), default="")  # host:pid:boot of the runner
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # The stored assistant message that answered (what feedback refers to), once known.
    answer_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    view: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    # A summary for the analytics pages, written when the turn ends (version 4).
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    proposals: Mapped[int] = mapped_column(Integer, default=0)
    tools: Mapped[list[Any] | None] = mapped_column(JSONType, nullable=True)  # names of the tools it called
    # The best dense similarity of what was retrieved: low means the answer had weak context.
    context_score: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (
        UniqueConstraint("conversation_id", "number", name="uq_turns_conversation_number"),
        CheckConstraint(_in("kind", TURN_KINDS), name="ck_turns_kind"),
        CheckConstraint(_in("status", TURN_STATUSES), name="ck_turns_status"),
        Index(
            "ux_turns_one_running",
            "conversation_id",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
        Index("ix_turns_started", "started_at"),
        Index("ix_turns_org_started", "organization_id", "started_at"),
    )


class TurnEvent(Base):
    """One event of a turn as the renderers received it, numbered within its conversation."""

    __tablename__ = "turn_events"

    conversation_id: Mapped[str] = mapped_column(
        ID, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    turn_id: Mapped[str] = mapped_column(ID, ForeignKey("turns.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebSession(Base):
    """A signed-in browser: the dashboard's cookie holds a secret whose sha256 is `id`.

    It keeps the platform token the assistant acts with, so a reload does not sign the user out;
    it ends when the token does (or at sign-out).
    """

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(PRINCIPAL)
    user: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class DirectoryEntry(Base):
    """Who a user id is, as last seen at sign-in: the dashboard shows names, not ids (version 4)."""

    __tablename__ = "directory"

    user_id: Mapped[str] = mapped_column(PRINCIPAL, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    full_name: Mapped[str] = mapped_column(String(300), default="")
    role: Mapped[str] = mapped_column(String(64))
    organization_id: Mapped[str | None] = mapped_column(PRINCIPAL, nullable=True, index=True)
    organization_name: Mapped[str] = mapped_column(String(300), default="")
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EvalRun(Base):
    """One evaluation of retrieval on a question set, with the index and settings it ran against,
    so runs are compared only with runs of the same questions, index and settings (version 4)."""

    __tablename__ = "eval_runs"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[str | None] = mapped_column(PRINCIPAL, nullable=True)
    name: Mapped[str] = mapped_column(String(300))  # the question set: its file name
    questions_sha: Mapped[str] = mapped_column(String(64))
    questions: Mapped[int] = mapped_column(Integer)
    index_fingerprint: Mapped[str] = mapped_column(String(300))  # generation, model and build time
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType)  # top-k and fusion weights
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType)  # overall and per kind
    results: Mapped[list[Any]] = mapped_column(JSONType)  # per question: gold, first gold rank, top files
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


#: Tables added by schema version 4.
V4_TABLES = ("directory", "eval_runs")
#: Indexes added by schema version 4 (the operator pages' filters by organization and time).
V4_INDEXES = (
    "ix_conversations_org_created",
    "ix_pending_actions_org_created",
    "ix_turns_org_started",
    "ix_feedback_at",
)
#: Columns added to turns by schema version 4.
V4_TURN_COLUMNS = ("latency_ms", "proposals", "tools", "context_score")

#: Tables added by schema version 3.
TURN_TABLES = ("turns", "turn_events", "web_sessions")

#: Indexes added by schema version 2 (range queries, per-user lists, expiry). A database created
#: at version 1 lacks them; the version 2 migration creates them.
QUERY_INDEXES = (
    "ix_conversations_user_updated",
    "ix_pending_actions_status_expires",
    "ix_pending_actions_user_created",
    "ix_audit_log_at",
    "ix_usage_records_at",
    "ix_usage_records_user_at",
    "ix_usage_records_org_at",
    "ix_usage_records_conversation",
)
