"""The read model of a conversation: what every renderer shows, live or after a reload.

A turn's view is a fold over its events (`TurnFold`), so the dashboard rendering a running turn
from the events it receives and the WebSocket rebuilding one from the store get the same thing.
When a turn ends, its folded view is stored with it; `conversation_view` then reads finished
turns from their rows and folds stored events only for a turn still running. The actions a turn
proposed are joined in with their current state (an approval made anywhere shows everywhere).

Nothing here parses message content blocks: the messages table is the model's history, the
events are the users'.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.store.records import ConversationData, PendingActionData, TurnData

if TYPE_CHECKING:
    from app.store.db import Store

CITE = re.compile(r"\[(S\d+)\]")


@dataclass(frozen=True)
class Step:
    """One visible step of a turn: retrieving, thinking, a tool call, a proposal, an outcome, an error."""

    kind: str  # retrieval, thinking, tool, proposed, executed, error
    title: str
    ok: bool = True
    detail: str = ""


@dataclass
class TurnView:
    id: str
    conversation_id: str
    number: int
    kind: str  # message, decision
    label: str  # the user's message, or the decision in words
    status: str  # running, completed, cancelled, error
    stop: str | None = None
    text: str = ""  # the assistant's answer as streamed (all steps of the turn)
    query: str | None = None  # the standalone query retrieval searched
    chunks: list[dict[str, Any]] = field(default_factory=list)  # retrieved, with "cite" ids and scores
    retrieval_ms: float | None = None
    retrieval_warnings: list[str] = field(default_factory=list)  # e.g. the vector server was down
    steps: list[Step] = field(default_factory=list)
    proposed: list[str] = field(default_factory=list)  # action ids, in order
    tools: list[str] = field(default_factory=list)  # every tool the model called, in order
    outcomes: list[dict[str, Any]] = field(default_factory=list)  # action_executed payloads
    errors: list[dict[str, Any]] = field(default_factory=list)  # {"code", "message", "retryable"}
    usage: dict[str, Any] | None = None  # Done's totals
    calls: list[dict[str, Any]] = field(default_factory=list)  # per model call usage
    first_seq: int = 0
    last_seq: int = 0
    answer_seq: int | None = None  # the stored assistant message feedback refers to
    started_at: str | None = None
    ended_at: str | None = None

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def citations(self) -> list[dict[str, Any]]:
        """The chunks the answer cites, in the order first cited; then the other packed ones."""
        by_cite = {c["cite"]: c for c in self.chunks if c.get("cite")}
        cited = [by_cite[c] for c in dict.fromkeys(CITE.findall(self.text)) if c in by_cite]
        return cited

    @property
    def context_score(self) -> float | None:
        """The best dense similarity among the retrieved chunks (None: nothing retrieved).

        A low best score means the answer rested on weak context: the analytics page lists such
        questions for follow-up.
        """
        best = [
            max(
                v
                for v in (c.get("scores", {}).get("dense"), c.get("scores", {}).get("file_card"))
                if v is not None
            )
            for c in self.chunks
            if c.get("scores", {}).get("dense") is not None
            or c.get("scores", {}).get("file_card") is not None
        ]
        return max(best) if best else None

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> TurnView:
        values = dict(data)
        values["steps"] = [Step(**s) for s in values.get("steps", [])]
        known = TurnView.__dataclass_fields__
        return TurnView(**{k: v for k, v in values.items() if k in known})


@dataclass(frozen=True)
class ActionView:
    """A proposed action as it stands now."""

    id: str
    conversation_id: str
    tool: str
    preview: str
    arguments: dict[str, Any]
    risk: str
    digest: str
    confirm_name: str | None
    status: str
    expires_at: datetime
    created_at: datetime
    decided_at: datetime | None
    reason: str | None
    error: str | None
    result: Any
    changes: list[dict[str, Any]]
    attempts: int

    @property
    def waiting(self) -> bool:
        return self.status == "pending"

    @property
    def retryable(self) -> bool:
        return self.status == "failed" and bool((self.result or {}).get("retryable"))

    @property
    def outcome(self) -> str:
        """The result in words, once decided."""
        if self.status == "succeeded":
            return str((self.result or {}).get("message") or "Done.")
        if self.status == "failed":
            return self.error or "It failed."
        if self.status == "rejected":
            return f"Rejected: {self.reason or 'no reason given'}"
        if self.status == "expired":
            return "Expired before anyone approved it; nothing was changed."
        return ""

    @staticmethod
    def of(a: PendingActionData) -> ActionView:
        return ActionView(
            id=a.id, conversation_id=a.conversation_id, tool=a.tool, preview=a.preview,
            arguments=dict(a.arguments), risk=a.risk, digest=a.digest, confirm_name=a.confirm_name,
            status=a.status, expires_at=a.expires_at, created_at=a.created_at, decided_at=a.decided_at,
            reason=a.reason, error=a.error, result=a.result, changes=list(a.changes or []),
            attempts=a.attempts,
        )  # fmt: skip


@dataclass(frozen=True)
class ConversationView:
    conversation: ConversationData
    turns: list[TurnView]
    actions: dict[str, ActionView]  # every action of the conversation, by id
    total_turns: int  # all turns, also when only the last ones are in `turns`
    last_seq: int

    @property
    def running(self) -> TurnView | None:
        return next((t for t in reversed(self.turns) if t.running), None)

    @property
    def waiting(self) -> list[ActionView]:
        """Actions waiting for a decision, oldest first."""
        return sorted((a for a in self.actions.values() if a.waiting), key=lambda a: a.created_at)

    def turn(self, turn_id: str | None) -> TurnView | None:
        return next((t for t in self.turns if t.id == turn_id), None)


class TurnFold:
    """Builds a TurnView from wire events, one at a time (live) or all at once (from the store)."""

    def __init__(self, turn: TurnData | None = None) -> None:
        self.view = TurnView(
            id=turn.id if turn else "",
            conversation_id=turn.conversation_id if turn else "",
            number=turn.number if turn else 0,
            kind=turn.kind if turn else "message",
            label=turn.label if turn else "",
            status="running",
            started_at=turn.started_at.isoformat() if turn else None,
        )

    def add(self, event: dict[str, Any]) -> TurnView:
        v = self.view
        kind = event.get("type")
        seq = int(event.get("seq") or 0)
        v.first_seq = v.first_seq or seq
        v.last_seq = max(v.last_seq, seq)
        v.id = v.id or str(event.get("turn_id") or "")
        v.conversation_id = v.conversation_id or str(event.get("conversation_id") or "")
        if kind == "turn_started":
            v.kind, v.label, v.number = (
                event.get("kind", v.kind),
                event.get("label", v.label),
                event.get("number", v.number),
            )
        elif kind == "thinking":
            step = int(event.get("step") or 0)
            v.steps.append(
                Step(
                    "retrieval" if step == 0 else "thinking",
                    "Searching the code and docs" if step == 0 else f"Thinking (step {step})",
                )
            )
        elif kind == "context_retrieved":
            v.query, v.chunks, v.retrieval_ms = (
                event.get("query"),
                list(event.get("chunks") or []),
                event.get("latency_ms"),
            )
            v.retrieval_warnings = [str(w) for w in event.get("warnings") or []]
            cited = sum(1 for c in v.chunks if c.get("cite"))
            v.steps.append(
                Step(
                    "retrieval",
                    f"Read {len(v.chunks)} passages ({cited} in the prompt)",
                    detail=str(v.query or ""),
                )
            )
        elif kind == "text_delta":
            v.text += str(event.get("text", ""))
        elif kind == "tool_used":
            v.tools.append(str(event.get("tool")))
            v.steps.append(
                Step(
                    "tool",
                    f"Called {event.get('tool')}",
                    bool(event.get("ok", True)),
                    str(event.get("summary", "")),
                )
            )
        elif kind == "action_proposed":
            action_id = str(event.get("action_id"))
            if action_id not in v.proposed:
                v.proposed.append(action_id)
                v.tools.append(str(event.get("tool")))
            v.steps.append(Step("proposed", f"Proposed: {event.get('preview')}"))
        elif kind == "action_executed":
            v.outcomes.append(
                {k: event.get(k) for k in ("action_id", "tool", "ok", "status", "message", "retryable")}
            )
            v.steps.append(Step("executed", str(event.get("message", "")), bool(event.get("ok"))))
        elif kind == "usage":
            v.calls.append(
                {
                    k: event.get(k)
                    for k in (
                        "provider",
                        "model",
                        "input_tokens",
                        "output_tokens",
                        "cache_write_tokens",
                        "cache_read_tokens",
                        "latency_ms",
                        "cost_usd",
                    )
                }
            )
        elif kind == "error":
            v.errors.append(
                {
                    "code": event.get("code"),
                    "message": event.get("message"),
                    "retryable": event.get("retryable"),
                }
            )
            if event.get("code") != "cancelled":
                v.steps.append(Step("error", str(event.get("message", "")), False))
        elif kind == "done":
            v.stop = str(event.get("stop") or "end_turn")
            v.usage = event.get("usage")
            v.status = status_of(v.stop)
        return v  # fmt: skip


def status_of(stop: str) -> str:
    """The turn's status from how its stream stopped."""
    if stop in ("end_turn", "action_proposed"):
        return "completed"
    if stop in ("cancelled", "interrupted"):
        return "cancelled"
    return "error"


def fold(events: list[dict[str, Any]], turn: TurnData | None = None) -> TurnView:
    folder = TurnFold(turn)
    for event in events:
        folder.add(event)
    return folder.view


def turn_view(store: Store, turn: TurnData) -> TurnView:
    """A stored turn's view: its snapshot when it ended, else a fold of its stored events."""
    if turn.view is not None:
        view = TurnView.from_dict(turn.view)
    else:
        view = fold([e.to_dict() for e in store.turns.events(turn.conversation_id, turn_id=turn.id)], turn)
    view.status = turn.status
    view.stop = turn.stop or view.stop
    view.answer_seq = turn.answer_seq
    view.ended_at = turn.ended_at.isoformat() if turn.ended_at else None
    return view


def conversation_view(
    store: Store, conversation_id: str, *, last: int | None = None
) -> ConversationView | None:
    """The conversation as users see it (the `last` turns only, if given); None if it does not exist."""
    conversation = store.conversations.get(conversation_id)
    if conversation is None:
        return None
    turns = store.turns.list(conversation_id, last=last)
    total = len(turns) if last is None else store.turns.count(conversation_id)
    actions = {
        a.id: ActionView.of(a) for a in store.actions.list(conversation_id=conversation_id, limit=10_000)
    }
    views = [turn_view(store, t) for t in turns]
    return ConversationView(conversation, views, actions, total, store.turns.last_seq(conversation_id))
