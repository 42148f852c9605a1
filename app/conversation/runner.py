"""Turns run in worker threads, so no page rerun, navigation or closed tab can cut one in half.

Why threads: a Streamlit script is re-executed on every click and stopped mid-way when the user
clicks again; a turn driven from the script would die with it, and the WebSocket server must not
tie a turn to one socket either (a disconnect is not a cancel). So every turn runs in a thread of
its own, owned by this per-process runner: renderers start it, then follow its events (`follow`)
for as long as they are there, and whoever comes back later (a rerun, a reload, a reconnect)
follows the same live turn or reads the stored one. Stop is explicit: `cancel` sets the turn's
token here and flags the turn's row, which the journal of a turn in another process picks up.

A heartbeat thread keeps the running turns' rows fresh, so a turn whose process died is told
apart from one waiting on a slow model (see `journal.recover_stale`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from app.actions.service import ActionError
from app.conversation import decisions
from app.conversation.bus import EventBus
from app.conversation.events import Event
from app.conversation.journal import EngineCall, begin_turn, journaled
from app.conversation.session import TurnDeps
from app.conversation.turn import MAX_MESSAGE_CHARS, run_turn
from app.conversation.view import TurnView, fold
from app.permissions.policy import UserContext
from app.store.db import Store
from app.store.records import TurnData

log = logging.getLogger(__name__)

HEARTBEAT_EVERY_S = 20.0


class LiveTurn:
    """A turn running in this process: its events so far, and a way to wait for more."""

    def __init__(self, turn: TurnData) -> None:
        self.turn = turn
        self.cancel = threading.Event()
        self._events: list[Event] = []
        self._cond = threading.Condition()
        self._done = False

    @property
    def id(self) -> str:
        return self.turn.id

    @property
    def conversation_id(self) -> str:
        return self.turn.conversation_id

    @property
    def done(self) -> bool:
        return self._done

    def events(self) -> list[Event]:
        with self._cond:
            return list(self._events)

    def view(self) -> TurnView:
        return fold([e.to_dict() for e in self.events()], self.turn)

    def follow(self, after_seq: int = 0, *, timeout: float | None = None) -> Iterator[Event]:
        """Events with seq > `after_seq`, as they come, until the turn ends (or `timeout` passes idle)."""
        for batch in self.batches(after_seq, timeout=timeout):
            yield from batch

    def batches(self, after_seq: int = 0, *, timeout: float | None = None) -> Iterator[list[Event]]:
        """Like `follow`, but everything that arrived since the last look at once (fewer redraws)."""
        index = 0
        while True:
            with self._cond:
                while index >= len(self._events) and not self._done:
                    if not self._cond.wait(timeout):
                        return
                batch = self._events[index:]
                index = len(self._events)
                finished = self._done and index >= len(self._events)
            batch = [e for e in batch if e.seq > after_seq]
            if batch:
                yield batch
            if finished:
                return

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the turn ends; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._done, timeout)

    def _push(self, event: Event) -> None:
        with self._cond:
            self._events.append(event)
            self._cond.notify_all()

    def _end(self) -> None:
        with self._cond:
            self._done = True
            self._cond.notify_all()


def running_view(runner: TurnRunner, conversation_id: str, turn_id: str) -> TurnView | None:
    """A running turn's view as far as it got (live in this process, else from the store);
    None once it has ended."""
    live = runner.live(conversation_id)
    if live is not None and live.id == turn_id:
        view = live.view()
        return None if live.done else view
    turn = runner.store.turns.get(turn_id)
    if turn is None or turn.status != "running":
        return None
    return fold([e.to_dict() for e in runner.store.turns.events(conversation_id, turn_id=turn_id)], turn)


class TurnRunner:
    """Starts turns in worker threads and keeps the ones running in this process."""

    def __init__(
        self, store: Store, heartbeat_every_s: float = HEARTBEAT_EVERY_S, bus: EventBus | None = None
    ) -> None:
        self.store = store
        self.bus = bus or EventBus()
        self._live: dict[str, LiveTurn] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._heartbeat = threading.Thread(
            target=self._beat, args=(heartbeat_every_s,), name="turn-heartbeat", daemon=True
        )
        self._heartbeat.start()

    # --- starting turns ------------------------------------------------------------------------
    def send(self, deps: TurnDeps, conversation_id: str, user: UserContext, text: str,
             page_context: dict[str, Any] | None = None) -> LiveTurn:  # fmt: skip
        """Answer the user's message. LookupError: not their conversation; TurnBusyError: one is running."""
        self._own_conversation(conversation_id, user)
        text = text.strip()
        label = text if len(text) <= MAX_MESSAGE_CHARS else f"{text[:500]}… ({len(text):,} characters)"
        return self.start(
            conversation_id,
            user,
            "message",
            label,
            lambda cancel: run_turn(deps, conversation_id, user, text, cancel, page_context),
        )

    def approve(self, deps: TurnDeps, user: UserContext, action_id: str, *, expected_digest: str | None,
                confirm_text: str | None = None) -> LiveTurn:  # fmt: skip
        action = self._own_action(action_id, user)
        return self.start(
            action.conversation_id, user, "decision", f"Approved: {action.preview}",
            lambda cancel: decisions.approve(deps, user, action_id, expected_digest=expected_digest,
                                             confirm_text=confirm_text, cancel=cancel),
        )  # fmt: skip

    def reject(self, deps: TurnDeps, user: UserContext, action_id: str, reason: str = "") -> LiveTurn:
        action = self._own_action(action_id, user)
        label = f"Rejected: {action.preview}" + (f" — {reason.strip()}" if reason.strip() else "")
        return self.start(
            action.conversation_id, user, "decision", label,
            lambda cancel: decisions.reject(deps, user, action_id, reason, cancel=cancel),
        )  # fmt: skip

    def edit(self, deps: TurnDeps, user: UserContext, action_id: str, arguments: dict[str, Any]) -> LiveTurn:
        action = self._own_action(action_id, user)
        return self.start(
            action.conversation_id, user, "decision", f"Edited: {action.preview}",
            lambda cancel: decisions.edit(deps, user, action_id, arguments),
        )  # fmt: skip

    def start(
        self, conversation_id: str, user: UserContext, kind: str, label: str, call: EngineCall
    ) -> LiveTurn:
        turn = begin_turn(
            self.store, conversation_id, user_id=user.user_id, organization_id=user.organization_id,
            kind=kind, label=label,
        )  # fmt: skip
        live = LiveTurn(turn)
        with self._lock:
            self._live[conversation_id] = live
        thread = threading.Thread(
            target=self._run, args=(live, call), name=f"turn-{turn.id[:8]}", daemon=True
        )
        thread.start()
        return live

    # --- following and stopping ----------------------------------------------------------------
    def live(self, conversation_id: str) -> LiveTurn | None:
        with self._lock:
            return self._live.get(conversation_id)

    def cancel(self, turn_id: str) -> bool:
        """Ask a running turn to stop, in this process or another; False if it is not running."""
        with self._lock:
            local = next((t for t in self._live.values() if t.id == turn_id), None)
        if local is not None:
            local.cancel.set()
        flagged = self.store.turns.request_cancel(turn_id)
        return flagged or local is not None

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no turn runs in this process; False on timeout (tests and shutdown use it)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                running = list(self._live.values())
            if not running:
                return True
            if not running[0].wait(max(0.0, deadline - time.monotonic())):
                return False

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel what runs and wait for it to end (its partial work is stored as cancelled)."""
        self._stopping.set()
        with self._lock:
            running = list(self._live.values())
        for live in running:
            live.cancel.set()
        for live in running:
            live.wait(timeout)

    # --- internals -----------------------------------------------------------------------------
    def _run(self, live: LiveTurn, call: EngineCall) -> None:
        try:
            for event in journaled(self.store, live.turn, call, live.cancel):
                live._push(event)
                self.bus.publish(event.to_dict())
        except Exception:
            log.exception("turn %s could not be run", live.id)
        finally:
            live._end()
            with self._lock:
                if self._live.get(live.conversation_id) is live:
                    del self._live[live.conversation_id]

    def _beat(self, every_s: float) -> None:
        while not self._stopping.wait(every_s):
            with self._lock:
                ids = [t.id for t in self._live.values()]
            try:
                self.store.turns.heartbeat(ids)
            except Exception:
                log.warning("could not refresh the heartbeat of running turns", exc_info=True)

    def _own_conversation(self, conversation_id: str, user: UserContext) -> None:
        conv = self.store.conversations.get(conversation_id)
        if conv is None or conv.user_id != user.user_id:
            raise LookupError("There is no such conversation.")

    def _own_action(self, action_id: str, user: UserContext) -> Any:
        action = self.store.actions.get(action_id)
        if action is None or action.user_id != user.user_id:
            raise ActionError("There is no such action waiting for you.")
        return action
