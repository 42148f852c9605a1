"""The typed events a turn emits. The dashboard, the terminal chat and the WebSocket server all
render this one stream; `to_dict()` is the wire format (the widget switches on `type`).

The engine (`run_turn`, `resume`, the decisions) yields them with `turn_id` empty and `seq` 0; the
turn journal (`app.conversation.journal`) stamps both, numbers them within the conversation,
stores them, and adds the turn's usage totals to `Done`. Renderers only ever see stamped events.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

EventType = Literal[
    "turn_started",
    "thinking",
    "context_retrieved",
    "text_delta",
    "tool_used",
    "action_proposed",
    "action_executed",
    "usage",
    "error",
    "done",
]


@dataclass(frozen=True)
class Event:
    conversation_id: str
    type: ClassVar[EventType]
    turn_id: str = field(default="", kw_only=True)
    seq: int = field(default=0, kw_only=True)  # 1, 2, 3, ... within the conversation

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}


@dataclass(frozen=True)
class TurnStarted(Event):
    """The first event of every turn: what it is about (the user's message or a decision)."""

    kind: str = "message"  # message, decision
    label: str = ""
    number: int = 0
    type: ClassVar[EventType] = "turn_started"


@dataclass(frozen=True)
class Thinking(Event):
    """The assistant started working on a step (a model call)."""

    step: int = 0
    type: ClassVar[EventType] = "thinking"


@dataclass(frozen=True)
class ContextRetrieved(Event):
    query: str = ""  # the standalone query actually searched
    chunks: list[dict[str, Any]] = field(default_factory=list)  # RetrievedChunk.as_dict() with "cite" ids
    latency_ms: float = 0.0
    # Why retrieval answered with less than usual (a vector server down: BM25 alone), for the user.
    warnings: list[str] = field(default_factory=list)
    type: ClassVar[EventType] = "context_retrieved"


@dataclass(frozen=True)
class TextDelta(Event):
    text: str = ""
    type: ClassVar[EventType] = "text_delta"


@dataclass(frozen=True)
class ToolUsed(Event):
    """A read-only tool ran (a lookup, a search); `ok` False means the model got an error back."""

    tool: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    ok: bool = True
    summary: str = ""
    type: ClassVar[EventType] = "tool_used"


@dataclass(frozen=True)
class ActionProposed(Event):
    action_id: str = ""
    tool: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    preview: str = ""
    risk: str = "write"
    digest: str = ""
    confirm_name: str | None = None
    expires_at: str = ""
    changes: list[dict[str, Any]] = field(default_factory=list)  # what approving will change (before/after)
    type: ClassVar[EventType] = "action_proposed"


@dataclass(frozen=True)
class ActionExecuted(Event):
    action_id: str = ""
    tool: str = ""
    ok: bool = True
    status: str = ""
    message: str = ""
    result: Any = None
    retryable: bool = False
    type: ClassVar[EventType] = "action_executed"


@dataclass(frozen=True)
class UsageReported(Event):
    provider: str = ""
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    latency_ms: float = 0.0
    cost_usd: float | None = None  # None: the model has no price in the table
    estimated: bool = False  # the server reported no usage: the counts are an estimate
    type: ClassVar[EventType] = "usage"


@dataclass(frozen=True)
class ErrorEvent(Event):
    message: str = ""
    code: str = "error"  # message_too_long, rate_limited, budget_exceeded, provider, cancelled, steps, ...
    retryable: bool = False
    type: ClassVar[EventType] = "error"


@dataclass(frozen=True)
class Done(Event):
    text: str = ""  # the final assistant text of the turn
    stop: str = "end_turn"  # end_turn, action_proposed, error, cancelled, steps, interrupted
    # The turn's totals (see journal.TurnTotals.as_dict): tokens by kind, cost, latency. Set by
    # the journal; None straight out of the engine.
    usage: dict[str, Any] | None = None
    type: ClassVar[EventType] = "done"


def failure(conversation_id: str, message: str, code: str, retryable: bool = False) -> list[Event]:
    """How every stream ends when it cannot go on: the error, then Done."""
    return [
        ErrorEvent(conversation_id, message=message, code=code, retryable=retryable),
        Done(conversation_id, stop="error"),
    ]
