"""What the repositories return: frozen snapshots of stored rows.

Repositories never hand out ORM objects. A frozen dataclass can cross threads (the Streamlit script
thread, the API server, the executor), be cached by Streamlit, and be read after its session has
closed, with no lazy loading or detached-instance errors; and nobody can change the database by
mutating an object by accident. Every repository follows this one rule: rows in, `...Data` out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from app.store import models

Role = Literal["user", "assistant"]
ActionStatus = Literal["pending", "approved", "executing", "succeeded", "failed", "rejected", "expired"]
Risk = Literal["write", "destructive"]
UsageGroup = Literal["day", "model", "provider", "user", "organization", "conversation"]

#: Statuses an action never leaves.
FINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "rejected", "expired"})


@dataclass(frozen=True, slots=True)
class ConversationData:
    id: str
    user_id: str
    organization_id: str | None
    title: str
    summary: str
    summarized_upto_seq: int
    created_at: datetime
    updated_at: datetime
    provider: str | None
    model: str | None

    @staticmethod
    def of(row: models.Conversation) -> ConversationData:
        return ConversationData(
            id=row.id,
            user_id=row.user_id,
            organization_id=row.organization_id,
            title=row.title,
            summary=row.summary,
            summarized_upto_seq=row.summarized_upto_seq,
            created_at=row.created_at,
            updated_at=row.updated_at,
            provider=row.provider,
            model=row.model,
        )


@dataclass(frozen=True, slots=True)
class MessageData:
    """One stored message; `content` is the block list of `Message.to_dict()["content"]`."""

    id: str
    conversation_id: str
    seq: int
    role: Role
    content: list[dict[str, Any]]
    created_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_message_dict(self) -> dict[str, Any]:
        """The shape `app.providers.base.Message.from_dict` reads."""
        return {"role": self.role, "content": self.content}

    @staticmethod
    def of(row: models.MessageRecord) -> MessageData:
        return MessageData(
            id=row.id,
            conversation_id=row.conversation_id,
            seq=row.seq,
            role=row.role,  # type: ignore[arg-type]  # CHECK constraint keeps it a Role
            content=list(row.content),
            created_at=row.created_at,
            metadata=dict(row.meta or {}),
        )


@dataclass(frozen=True, slots=True)
class PendingActionData:
    id: str
    conversation_id: str
    user_id: str
    organization_id: str | None
    tool: str
    arguments: dict[str, Any]
    preview: str
    digest: str
    idempotency_key: str
    risk: Risk
    confirm_name: str | None
    status: ActionStatus
    expires_at: datetime
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None
    result: Any | None
    error: str | None
    attempts: int
    changes: list[dict[str, Any]] | None = None

    def is_expired(self, now: datetime) -> bool:
        """Past its expiry while still waiting: it may no longer be approved."""
        return self.status == "pending" and self.expires_at <= now

    @staticmethod
    def of(row: models.PendingAction) -> PendingActionData:
        return PendingActionData(
            id=row.id,
            conversation_id=row.conversation_id,
            user_id=row.user_id,
            organization_id=row.organization_id,
            tool=row.tool,
            arguments=dict(row.arguments),
            preview=row.preview,
            digest=row.digest,
            idempotency_key=row.idempotency_key,
            risk=row.risk,  # type: ignore[arg-type]  # CHECK constraint keeps it a Risk
            confirm_name=row.confirm_name,
            status=row.status,  # type: ignore[arg-type]  # CHECK constraint keeps it a status
            expires_at=row.expires_at,
            created_at=row.created_at,
            decided_at=row.decided_at,
            decided_by=row.decided_by,
            reason=row.reason,
            result=row.result,
            error=row.error,
            attempts=row.attempts,
            changes=list(row.changes) if row.changes is not None else None,
        )


@dataclass(frozen=True, slots=True)
class AuditEntryData:
    id: str
    at: datetime
    user_id: str | None
    organization_id: str | None
    conversation_id: str | None
    action_id: str | None
    event: str
    details: dict[str, Any]

    @staticmethod
    def of(row: models.AuditEntry) -> AuditEntryData:
        return AuditEntryData(
            id=row.id,
            at=row.at,
            user_id=row.user_id,
            organization_id=row.organization_id,
            conversation_id=row.conversation_id,
            action_id=row.action_id,
            event=row.event,
            details=dict(row.details or {}),
        )


@dataclass(frozen=True, slots=True)
class UsageRecordData:
    """One recorded model call; `cost_usd` is None when the model has no price."""

    id: str
    at: datetime
    conversation_id: str | None
    user_id: str | None
    organization_id: str | None
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    latency_ms: float
    cost_usd: Decimal | None
    estimated: bool = False

    @staticmethod
    def of(row: models.UsageRecord) -> UsageRecordData:
        return UsageRecordData(
            id=row.id,
            at=row.at,
            conversation_id=row.conversation_id,
            user_id=row.user_id,
            organization_id=row.organization_id,
            provider=row.provider,
            model=row.model,
            input_tokens=row.input_tokens,
            output_tokens=row.output_tokens,
            cache_write_tokens=row.cache_write_tokens,
            cache_read_tokens=row.cache_read_tokens,
            latency_ms=row.latency_ms,
            cost_usd=row.cost_usd,
            estimated=bool(row.estimated),
        )


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Usage summed over one group (a day, a model, a user, ...).

    `cost_usd` sums the priced calls only; `unpriced_calls` says how many calls had no price, so a
    total is never silently low: the UI shows "unknown" beside it when that count is not zero.
    """

    key: str | None
    calls: int
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    cost_usd: Decimal
    unpriced_calls: int
    latency_ms_avg: float
    estimated_calls: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_write_tokens + self.cache_read_tokens


@dataclass(frozen=True, slots=True)
class FeedbackData:
    id: str
    at: datetime
    conversation_id: str
    message_seq: int
    user_id: str
    rating: int
    comment: str | None

    @staticmethod
    def of(row: models.Feedback) -> FeedbackData:
        return FeedbackData(
            id=row.id,
            at=row.at,
            conversation_id=row.conversation_id,
            message_seq=row.message_seq,
            user_id=row.user_id,
            rating=row.rating,
            comment=row.comment,
        )


@dataclass(frozen=True, slots=True)
class TurnData:
    id: str
    conversation_id: str
    number: int
    kind: str  # message, decision
    label: str
    user_id: str
    organization_id: str | None
    status: str  # running, completed, cancelled, error
    stop: str | None
    owner: str
    started_at: datetime
    heartbeat_at: datetime
    ended_at: datetime | None
    cancel_requested: bool
    answer_seq: int | None
    view: dict[str, Any] | None
    latency_ms: float | None = None
    proposals: int = 0
    tools: list[str] = field(default_factory=list)
    context_score: float | None = None

    @staticmethod
    def of(row: models.Turn) -> TurnData:
        return TurnData(
            id=row.id,
            conversation_id=row.conversation_id,
            number=row.number,
            kind=row.kind,
            label=row.label,
            user_id=row.user_id,
            organization_id=row.organization_id,
            status=row.status,
            stop=row.stop,
            owner=row.owner,
            started_at=row.started_at,
            heartbeat_at=row.heartbeat_at,
            ended_at=row.ended_at,
            cancel_requested=bool(row.cancel_requested),
            answer_seq=row.answer_seq,
            view=dict(row.view) if row.view is not None else None,
            latency_ms=row.latency_ms,
            proposals=row.proposals or 0,
            tools=[str(t) for t in row.tools or []],
            context_score=row.context_score,
        )


@dataclass(frozen=True, slots=True)
class TurnEventData:
    """A stored event: `payload` is the event's wire dict without its type, ids and seq."""

    conversation_id: str
    seq: int
    turn_id: str
    type: str
    payload: dict[str, Any]
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The event's wire dict, as the renderers got it live."""
        return {
            "type": self.type,
            **self.payload,
            "conversation_id": self.conversation_id,
            "turn_id": self.turn_id,
            "seq": self.seq,
        }

    @staticmethod
    def of(row: models.TurnEvent) -> TurnEventData:
        return TurnEventData(
            conversation_id=row.conversation_id,
            seq=row.seq,
            turn_id=row.turn_id,
            type=row.type,
            payload=dict(row.payload or {}),
            at=row.at,
        )


@dataclass(frozen=True, slots=True)
class WebSessionData:
    id: str
    user_id: str
    user: dict[str, Any]
    created_at: datetime
    expires_at: datetime

    @staticmethod
    def of(row: models.WebSession) -> WebSessionData:
        return WebSessionData(row.id, row.user_id, dict(row.user), row.created_at, row.expires_at)


@dataclass(frozen=True, slots=True)
class DirectoryData:
    user_id: str
    email: str
    full_name: str
    role: str
    organization_id: str | None
    organization_name: str
    last_seen_at: datetime

    @property
    def label(self) -> str:
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email

    @staticmethod
    def of(row: models.DirectoryEntry) -> DirectoryData:
        return DirectoryData(
            row.user_id,
            row.email,
            row.full_name,
            row.role,
            row.organization_id,
            row.organization_name,
            row.last_seen_at,
        )


@dataclass(frozen=True, slots=True)
class EvalRunData:
    id: str
    at: datetime
    user_id: str | None
    name: str
    questions_sha: str
    questions: int
    index_fingerprint: str
    settings: dict[str, Any]
    metrics: dict[str, Any]
    results: list[Any]
    seconds: float

    @property
    def comparable_key(self) -> tuple[str, str, str]:
        """Runs compare only with runs of the same questions, index and settings."""
        return (self.questions_sha, self.index_fingerprint, json.dumps(self.settings, sort_keys=True))

    @staticmethod
    def of(row: models.EvalRun) -> EvalRunData:
        return EvalRunData(
            row.id, row.at, row.user_id, row.name, row.questions_sha, row.questions, row.index_fingerprint,
            dict(row.settings), dict(row.metrics), list(row.results), row.seconds,
        )  # fmt: skip
