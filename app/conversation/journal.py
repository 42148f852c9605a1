"""The turn journal: where the engine's events become the numbered, stored stream users see.

`journaled()` wraps one of the engine's generators (`run_turn`, `resume`, a decision) for one
turn. For every event it stamps the turn id and the next sequence number of the conversation,
folds it into the turn's view, and stores it (in batches: a streamed answer is hundreds of small
deltas, and one transaction per delta would cost more than the model). It watches for a cancel
requested from anywhere (this process's token, or the turn's row, set by another process), adds
the turn's usage totals to `Done`, and when the stream ends stores the folded view with the turn.

If the consumer goes away early (a closed generator: a Streamlit rerun, a dropped socket), the
turn is cancelled and drained, so what was streamed is kept and the turn ends as cancelled, never
half-open. If the engine raises, the turn ends with an error event instead of vanishing.

`begin_turn` claims a conversation for a new turn, after ending any turn whose runner died.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from app.conversation.events import Done, ErrorEvent, Event, TurnStarted, UsageReported
from app.conversation.view import TurnFold, TurnView, fold, status_of
from app.store.db import Store
from app.store.records import TurnData

log = logging.getLogger(__name__)

#: This process, as written in the turns it runs (host:pid:boot), so a restart can tell its own dead turns.
OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
FLUSH_EVERY_S = 0.15  # how stale the stored stream of a running turn may be
CANCEL_CHECK_EVERY_S = 0.5  # how often a running turn looks for a cancel requested elsewhere
STALE_AFTER = timedelta(seconds=90)  # a running turn without a heartbeat for this long has no runner
INTERRUPTED = "The assistant stopped before finishing (its process ended). What it wrote so far is kept."

EngineCall = Callable[[threading.Event], Iterator[Event]]


@dataclass
class TurnTotals:
    """Usage of one turn, added up from its usage events."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float = 0.0  # priced calls only
    unpriced_calls: int = 0
    estimated_calls: int = 0
    model_latency_ms: float = 0.0

    def add(self, u: UsageReported) -> None:
        self.calls += 1
        self.input_tokens += u.input_tokens
        self.output_tokens += u.output_tokens
        self.cache_write_tokens += u.cache_write_tokens
        self.cache_read_tokens += u.cache_read_tokens
        self.model_latency_ms += u.latency_ms
        self.estimated_calls += int(u.estimated)
        if u.cost_usd is None:
            self.unpriced_calls += 1
        else:
            self.cost_usd += u.cost_usd

    def as_dict(self, latency_ms: float) -> dict[str, Any]:
        """`cost_usd` None when no call had a price; `unpriced_calls` says how many lacked one."""
        return {
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cost_usd": None
            if self.calls and self.unpriced_calls == self.calls
            else round(self.cost_usd, 10),
            "unpriced_calls": self.unpriced_calls,
            "estimated_calls": self.estimated_calls,
            "latency_ms": round(latency_ms, 1),
            "model_latency_ms": round(self.model_latency_ms, 1),
        }


class TurnJournal:
    """Numbers, folds and stores the events of one running turn."""

    def __init__(self, store: Store, turn: TurnData, first_seq: int) -> None:
        self.store = store
        self.turn = turn
        self.next_seq = first_seq
        self.fold = TurnFold(turn)
        self.totals = TurnTotals()
        self.started = time.perf_counter()
        self.messages_before = _last_message_seq(store, turn.conversation_id)
        self._pending: list[dict[str, Any]] = []
        self._flushed_at = time.monotonic()
        self._checked_at = time.monotonic()
        self.finished = False

    def record(self, event: Event) -> Event:
        """Stamp, fold and buffer one event; returns the stamped event."""
        if isinstance(event, UsageReported):
            self.totals.add(event)
        if isinstance(event, Done):
            event = replace(event, usage=self.totals.as_dict((time.perf_counter() - self.started) * 1000))
        stamped = replace(
            event, conversation_id=self.turn.conversation_id, turn_id=self.turn.id, seq=self.next_seq
        )
        self.next_seq += 1
        wire = stamped.to_dict()
        self.fold.add(wire)
        self._pending.append(wire)
        if not isinstance(stamped, Done) and time.monotonic() - self._flushed_at >= FLUSH_EVERY_S:
            self.flush()  # Done is stored by finish(), with the turn's end, in one transaction
        return stamped

    def flush(self) -> None:
        """Store the buffered events (and beat the turn's heartbeat)."""
        pending, self._pending = self._pending, []
        self._flushed_at = time.monotonic()
        try:
            self.store.turns.append_events(self.turn.id, pending)
        except Exception:
            self._pending = pending + self._pending  # kept for the next flush; the stream goes on
            log.exception("could not store the events of turn %s", self.turn.id)

    def cancel_requested(self) -> bool:
        """Whether someone asked (in the store) for this turn to stop; checked at most twice a second."""
        if time.monotonic() - self._checked_at < CANCEL_CHECK_EVERY_S:
            return False
        self._checked_at = time.monotonic()
        try:
            return self.store.turns.cancel_requested(self.turn.id)
        except Exception:
            return False

    def finish(self) -> None:
        """Store what is left and end the turn with its folded view."""
        if self.finished:
            return
        self.finished = True
        view = self.fold.view
        stop = view.stop or "error"
        answer = _answer_seq(self.store, self.turn.conversation_id, self.messages_before)
        pending, self._pending = self._pending, []
        self.store.turns.finish(
            self.turn.id, status_of(stop), stop=stop, view=view.as_dict(), answer_seq=answer,
            summary=summary_of(view), events=pending,
        )  # fmt: skip


def summary_of(view: TurnView) -> dict[str, Any]:
    """What the analytics pages read of a finished turn, stored beside its view."""
    return {
        "latency_ms": (view.usage or {}).get("latency_ms"),
        "proposals": len(view.proposed),
        "tools": list(view.tools),
        "context_score": view.context_score,
    }


def begin_turn(store: Store, conversation_id: str, *, user_id: str, organization_id: str | None,
               kind: str, label: str) -> TurnData:  # fmt: skip
    """Claim the conversation for a new turn (TurnBusyError while another runs)."""
    recover_stale(store, conversation_id)
    return store.turns.start(
        conversation_id, user_id=user_id, organization_id=organization_id, kind=kind, label=label, owner=OWNER
    )


def journaled(
    store: Store, turn: TurnData, call: EngineCall, cancel: threading.Event | None = None
) -> Iterator[Event]:
    """Run `call(cancel)` as `turn`: yield its events stamped, store them, end the turn."""
    cancel = cancel or threading.Event()
    journal = TurnJournal(store, turn, store.turns.last_seq(turn.conversation_id) + 1)
    events: Iterator[Event] | None = None
    try:
        yield journal.record(
            TurnStarted(turn.conversation_id, kind=turn.kind, label=turn.label, number=turn.number)
        )
        events = call(cancel)
        for event in events:
            if not cancel.is_set() and journal.cancel_requested():
                cancel.set()
            stamped = journal.record(event)
            if isinstance(stamped, Done):
                journal.finish()  # the conversation is free before anyone hears the turn is done
                yield stamped
                break
            yield stamped
    except GeneratorExit:  # the consumer left: stop the work, keep what it did (the user's message too)
        cancel.set()
        _drain(journal, events if events is not None else call(cancel))
        raise
    except Exception as exc:  # an engine bug: the turn still ends, visibly
        log.exception("turn %s failed", turn.id)
        if not journal.fold.view.stop:
            yield journal.record(ErrorEvent(turn.conversation_id, message=f"The assistant failed unexpectedly ({type(exc).__name__}).", code="internal"))  # fmt: skip
            yield journal.record(Done(turn.conversation_id, text=journal.fold.view.text, stop="error"))
    finally:
        if not journal.fold.view.stop:  # the engine ended without Done
            journal.record(Done(turn.conversation_id, text=journal.fold.view.text, stop="error"))
        journal.finish()
        close = getattr(events, "close", None)
        if callable(close):
            close()


def _drain(journal: TurnJournal, events: Iterator[Event]) -> None:
    """Let a cancelled engine generator end on its own terms (it saves partial text), recording it."""
    try:
        for event in events:
            journal.record(event)
            if isinstance(event, Done):
                break
    except Exception:
        log.exception("turn %s failed while cancelling", journal.turn.id)


def recover_stale(store: Store, conversation_id: str | None = None) -> list[str]:
    """End running turns whose runner is gone (no heartbeat for STALE_AFTER, or a dead local process)."""
    now = store.db.clock()
    candidates = store.turns.stale(now - STALE_AFTER, conversation_id)
    if conversation_id is not None:
        running = store.turns.running(conversation_id)
        if (
            running is not None
            and running.id not in {t.id for t in candidates}
            and _owner_dead(running.owner)
        ):
            candidates.append(running)
    recovered = []
    for turn in candidates:
        events = [e.to_dict() for e in store.turns.events(turn.conversation_id, turn_id=turn.id)]
        view = fold(events, turn)
        seq = store.turns.last_seq(turn.conversation_id) + 1
        closing = [
            ErrorEvent(
                turn.conversation_id, message=INTERRUPTED, code="interrupted", turn_id=turn.id, seq=seq
            ),
            Done(turn.conversation_id, text=view.text, stop="interrupted", turn_id=turn.id, seq=seq + 1),
        ]
        wires = [e.to_dict() for e in closing]
        for wire in wires:
            view = _add(view, wire)
        store.turns.append_events(turn.id, wires)
        if store.turns.finish(
            turn.id, "cancelled", stop="interrupted", view=view.as_dict(), summary=summary_of(view)
        ):
            log.warning("turn %s of conversation %s was interrupted; ended it", turn.id, turn.conversation_id)
            recovered.append(turn.id)
    return recovered


def _add(view: Any, wire: dict[str, Any]) -> Any:
    folder = TurnFold()
    folder.view = view
    return folder.add(wire)


def _owner_dead(owner: str) -> bool:
    """True when `owner` is a process on this host that no longer runs (or this process restarted)."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return owner != OWNER  # same pid, another boot: the earlier process is gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _last_message_seq(store: Store, conversation_id: str) -> int:
    last = store.conversations.list_messages(conversation_id, last=1)
    return last[-1].seq if last else 0


def _answer_seq(store: Store, conversation_id: str, after: int) -> int | None:
    """The last assistant message with text stored during the turn: what feedback is about."""
    for message in reversed(store.conversations.list_messages(conversation_id, after_seq=after)):
        if message.role == "assistant" and any(
            b.get("type") == "text" and b.get("text") for b in message.content
        ):
            return message.seq
    return None
