"""Turns and their numbered events: what the dashboard and the widget render, live and after a reload.

A turn is started with `start`, which refuses (TurnBusyError) while another turn of the same
conversation is running, in this process or any other: a partial unique index allows one running
turn per conversation, and the insert takes the conversation's row lock first (as
`append_message` does) so two starters queue instead of colliding on the turn number.

Events are numbered per conversation (`seq` 1, 2, 3, ...) by the one running turn, which is why
their numbers need no allocation here: `append_events` inserts a batch the runner numbered, in one
transaction, and refreshes the turn's heartbeat in the same statement batch.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.store.errors import TurnBusyError
from app.store.models import TURN_KINDS, TURN_STATUSES, Turn, TurnEvent
from app.store.records import TurnData, TurnEventData
from app.store.repositories.conversations import touch_conversation

if TYPE_CHECKING:
    from app.store.sessions import SessionSource


SUMMARY_FIELDS = frozenset({"latency_ms", "proposals", "tools", "context_score"})


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


class TurnRepository:
    def __init__(self, db: SessionSource) -> None:
        self._db = db

    def start(
        self,
        conversation_id: str,
        *,
        user_id: str,
        organization_id: str | None,
        kind: str,
        label: str,
        owner: str = "",
    ) -> TurnData:
        """A new running turn; TurnBusyError if one is running, NotFoundError without the conversation."""
        if kind not in TURN_KINDS:
            raise ValueError(f"kind must be one of {TURN_KINDS}, not {kind!r}")
        for attempt in range(2):
            try:
                return self._insert(conversation_id, user_id, organization_id, kind, label, owner)
            except IntegrityError as exc:
                running = self.running(conversation_id)
                if running is not None:
                    raise TurnBusyError(running.id, running.label) from exc
                if attempt:  # not a running turn in the way: a real constraint problem
                    raise
        raise AssertionError("unreachable")

    def _insert(self, conversation_id: str, user_id: str, organization_id: str | None, kind: str, label: str,
                owner: str) -> TurnData:  # fmt: skip
        now = self._db.clock()
        with self._db.write() as session:
            touch_conversation(session, conversation_id, now)
            last = session.scalar(
                select(func.coalesce(func.max(Turn.number), 0)).where(Turn.conversation_id == conversation_id)
            )
            row = Turn(
                conversation_id=conversation_id,
                number=int(last or 0) + 1,
                kind=kind,
                label=label,
                user_id=user_id,
                organization_id=organization_id,
                status="running",
                owner=owner,
                started_at=now,
                heartbeat_at=now,
                cancel_requested=False,
            )
            session.add(row)
            session.flush()
            return TurnData.of(row)

    def get(self, turn_id: str) -> TurnData | None:
        with self._db.read() as session:
            row = session.get(Turn, turn_id)
            return None if row is None else TurnData.of(row)

    def running(self, conversation_id: str) -> TurnData | None:
        stmt = select(Turn).where(Turn.conversation_id == conversation_id, Turn.status == "running")
        with self._db.read() as session:
            row = session.scalars(stmt).first()
            return None if row is None else TurnData.of(row)

    def list(self, conversation_id: str, *, last: int | None = None) -> builtins.list[TurnData]:
        """The conversation's turns in order: all of them, or only the `last` n."""
        stmt = select(Turn).where(Turn.conversation_id == conversation_id)
        if last is not None:
            stmt = stmt.order_by(Turn.number.desc()).limit(last)
        else:
            stmt = stmt.order_by(Turn.number)
        with self._db.read() as session:
            rows = [TurnData.of(row) for row in session.scalars(stmt)]
        return sorted(rows, key=lambda t: t.number)

    def count(self, conversation_id: str) -> int:
        stmt = select(func.count()).where(Turn.conversation_id == conversation_id)
        with self._db.read() as session:
            return int(session.scalar(stmt) or 0)

    def stale(self, before: datetime, conversation_id: str | None = None) -> builtins.list[TurnData]:
        """Running turns whose heartbeat is older than `before`: their runner is gone."""
        stmt = select(Turn).where(Turn.status == "running", Turn.heartbeat_at < before)
        if conversation_id is not None:
            stmt = stmt.where(Turn.conversation_id == conversation_id)
        with self._db.read() as session:
            return [TurnData.of(row) for row in session.scalars(stmt)]

    # --- events --------------------------------------------------------------------------------
    def last_seq(self, conversation_id: str) -> int:
        stmt = select(func.coalesce(func.max(TurnEvent.seq), 0)).where(
            TurnEvent.conversation_id == conversation_id
        )
        with self._db.read() as session:
            return int(session.scalar(stmt) or 0)

    @staticmethod
    def _event_rows(
        turn_id: str, events: Sequence[dict[str, Any]], now: datetime
    ) -> builtins.list[dict[str, Any]]:
        return [
            {
                "conversation_id": event["conversation_id"],
                "seq": int(event["seq"]),
                "turn_id": turn_id,
                "type": str(event["type"]),
                "payload": {
                    k: v for k, v in event.items() if k not in ("type", "conversation_id", "turn_id", "seq")
                },
                "at": now,
            }
            for event in events
        ]

    def last_seqs(self, conversation_ids: Sequence[str]) -> dict[str, int]:
        """The highest stored event number of each conversation (absent: none stored yet)."""
        if not conversation_ids:
            return {}
        stmt = (
            select(TurnEvent.conversation_id, func.max(TurnEvent.seq))
            .where(TurnEvent.conversation_id.in_(list(conversation_ids)))
            .group_by(TurnEvent.conversation_id)
        )
        with self._db.read() as session:
            return {str(cid): int(seq) for cid, seq in session.execute(stmt).all()}

    def append_events(self, turn_id: str, events: Sequence[dict[str, Any]]) -> None:
        """Store numbered events (wire dicts with conversation_id, turn_id, seq, type) and beat."""
        now = self._db.clock()
        rows = self._event_rows(turn_id, events, now)
        with self._db.write() as session:
            if rows:
                session.execute(insert(TurnEvent), rows)
            session.execute(
                update(Turn)
                .where(Turn.id == turn_id, Turn.status == "running")
                .values(heartbeat_at=now)
                .execution_options(synchronize_session=False)
            )

    def events(
        self,
        conversation_id: str,
        *,
        after_seq: int = 0,
        turn_id: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[TurnEventData]:
        """Stored events in seq order (after `after_seq`; of one turn when `turn_id` is given)."""
        stmt = select(TurnEvent).where(
            TurnEvent.conversation_id == conversation_id, TurnEvent.seq > after_seq
        )
        if turn_id is not None:
            stmt = stmt.where(TurnEvent.turn_id == turn_id)
        stmt = stmt.order_by(TurnEvent.seq)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._db.read() as session:
            return [TurnEventData.of(row) for row in session.scalars(stmt)]

    # --- running state -------------------------------------------------------------------------
    def heartbeat(self, turn_ids: Sequence[str]) -> None:
        if not turn_ids:
            return
        with self._db.write() as session:
            session.execute(
                update(Turn)
                .where(Turn.id.in_(list(turn_ids)), Turn.status == "running")
                .values(heartbeat_at=self._db.clock())
                .execution_options(synchronize_session=False)
            )

    def request_cancel(self, turn_id: str) -> bool:
        """Ask the turn's runner (whichever process holds it) to stop; False if it is not running."""
        with self._db.write() as session:
            result = session.execute(
                update(Turn)
                .where(Turn.id == turn_id, Turn.status == "running")
                .values(cancel_requested=True)
                .execution_options(synchronize_session=False)
            )
            return _rowcount(result) == 1

    def cancel_requested(self, turn_id: str) -> bool:
        with self._db.read() as session:
            return bool(session.scalar(select(Turn.cancel_requested).where(Turn.id == turn_id)))

    def finish(
        self,
        turn_id: str,
        status: str,
        *,
        stop: str | None,
        view: dict[str, Any],
        answer_seq: int | None = None,
        summary: dict[str, Any] | None = None,
        events: Sequence[dict[str, Any]] = (),
    ) -> bool:
        """End a running turn with its folded view; False if it had ended already (one finisher wins).

        `events` (its last ones, Done among them) are stored in the same transaction, so no reader
        sees a turn's Done while the turn still holds its conversation. `summary` sets the
        analytics columns: latency_ms, proposals, tools, context_score.
        """
        if status not in TURN_STATUSES or status == "running":
            raise ValueError(f"a turn ends as one of {TURN_STATUSES[1:]}, not {status!r}")
        now = self._db.clock()
        with self._db.write() as session:
            rows = self._event_rows(turn_id, events, now)
            if rows:
                session.execute(insert(TurnEvent), rows)
            result = session.execute(
                update(Turn)
                .where(Turn.id == turn_id, Turn.status == "running")
                .values(
                    status=status,
                    stop=stop,
                    view=view,
                    answer_seq=answer_seq,
                    ended_at=now,
                    heartbeat_at=now,
                    **{k: v for k, v in (summary or {}).items() if k in SUMMARY_FIELDS},
                )
                .execution_options(synchronize_session=False)
            )
            return _rowcount(result) == 1
