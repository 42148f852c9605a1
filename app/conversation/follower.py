"""One renderer's view of a conversation's event stream: every event once, in order, none missed.

Live events arrive from the bus; anything missed (a client resuming from the last number it saw, a
subscription made mid-turn, a turn run by another process without Redis) is read from the store,
and for a turn still running in this process from the runner's memory (the store lags it by up to
one journal flush). Events are numbered per conversation, so "once and in order" is a comparison
of numbers.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from app.conversation.runner import TurnRunner
from app.store.db import Store

log = logging.getLogger(__name__)


class Follower:
    def __init__(self, runner: TurnRunner, conversation_id: str, last_seq: int = 0) -> None:
        self.runner = runner
        self.conversation_id = conversation_id
        self.last_seq = last_seq

    def accept(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """What to send for a live event: nothing for one already sent, the gap first if some were missed."""
        seq = int(event.get("seq") or 0)
        if seq <= self.last_seq:
            return []
        out = self.missed(before=seq) if seq > self.last_seq + 1 else []
        if seq > self.last_seq:
            out.append(event)
            self.last_seq = seq
        return out

    def missed(self, before: int | None = None) -> list[dict[str, Any]]:
        """Events after the last one sent (and before `before`), from the store and this process's running turn."""
        found: dict[int, dict[str, Any]] = {}
        for stored in self.runner.store.turns.events(self.conversation_id, after_seq=self.last_seq):
            found[stored.seq] = stored.to_dict()
        live = self.runner.live(self.conversation_id)
        if live is not None:
            for event in live.events():
                if event.seq > self.last_seq:
                    found.setdefault(event.seq, event.to_dict())
        out = []
        for seq in sorted(found):
            if before is not None and seq >= before:
                break
            out.append(found[seq])
            self.last_seq = seq
        return out


class StoreWatch:
    """Without a Redis bridge, turns run by other processes reach followers through the store: one
    query a second for every conversation followed in this process (not one per follower), and a
    follower reads the store only when its conversation has something it has not seen."""

    def __init__(self, store: Store, interval_s: float = 1.0) -> None:
        self.store = store
        self.interval_s = interval_s
        self._watched: dict[str, int] = {}  # conversation id -> followers
        self._latest: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, conversation_id: str) -> None:
        with self._lock:
            self._watched[conversation_id] = self._watched.get(conversation_id, 0) + 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="store-watch", daemon=True)
                self._thread.start()

    def unwatch(self, conversation_id: str) -> None:
        with self._lock:
            left = self._watched.get(conversation_id, 0) - 1
            if left > 0:
                self._watched[conversation_id] = left
            else:
                self._watched.pop(conversation_id, None)
                self._latest.pop(conversation_id, None)

    def latest(self, conversation_id: str) -> int:
        with self._lock:
            return self._latest.get(conversation_id, 0)

    def stop(self) -> None:
        self._stopping.set()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_s):
            with self._lock:
                ids = list(self._watched)
            try:
                latest = self.store.turns.last_seqs(ids)
            except Exception:
                log.warning("could not read the latest events", exc_info=True)
                continue
            with self._lock:
                self._latest.update(latest)
