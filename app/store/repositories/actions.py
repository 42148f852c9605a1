"""Pending actions: the approval bookkeeping behind every write the assistant proposes.

The one operation that matters most is `transition`: it moves an action from an expected status to
a new one with a single `UPDATE ... WHERE id = ? AND status = ?` and reports whether a row changed.
Two approvals racing (a double click, the dashboard and the widget at once) both send the UPDATE;
the database applies them one after the other and the second no longer matches, so exactly one
caller gets True and goes on to execute. Nothing is read first and decided in Python, which is
what would let both win. Extra conditions (not expired, arguments digest unchanged) go into the
same WHERE clause for the same reason.
"""

from __future__ import annotations

import builtins
import hashlib
import json
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError

from app.store.errors import DuplicateIdempotencyKeyError, NotFoundError
from app.store.models import ACTION_RISKS, ACTION_STATUSES, Conversation, PendingAction
from app.store.records import PendingActionData

if TYPE_CHECKING:
    from app.store.sessions import SessionSource

#: Columns `transition` may set besides the status.
TRANSITION_FIELDS = frozenset({"decided_at", "decided_by", "reason", "result", "error", "attempts"})


def arguments_digest(arguments: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of `arguments` (sorted keys, no spaces, UTF-8).

    Equal arguments give equal digests whatever their key order, so "approve what you saw" can be
    checked by comparing the digest the user was shown with the stored one.
    """
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _statuses(value: str | Collection[str]) -> list[str]:
    values = [value] if isinstance(value, str) else list(value)
    unknown = [v for v in values if v not in ACTION_STATUSES]
    if unknown or not values:
        raise ValueError(f"unknown action status {unknown or values!r}; expected one of {ACTION_STATUSES}")
    return values


class ActionRepository:
    def __init__(self, db: SessionSource) -> None:
        self._db = db

    def add(
        self,
        *,
        conversation_id: str,
        user_id: str,
        organization_id: str | None,
        tool: str,
        arguments: dict[str, Any],
        preview: str,
        idempotency_key: str,
        risk: str,
        expires_at: datetime,
        digest: str | None = None,
        confirm_name: str | None = None,
        action_id: str | None = None,
        changes: list[dict[str, Any]] | None = None,
    ) -> PendingActionData:
        """Store a new pending action. `digest` defaults to `arguments_digest(arguments)`.

        Raises DuplicateIdempotencyKeyError if the key was used before, NotFoundError if the
        conversation does not exist, ValueError for an unknown risk.
        """
        if risk not in ACTION_RISKS:
            raise ValueError(f"risk must be one of {ACTION_RISKS}, not {risk!r}")
        row = PendingAction(
            conversation_id=conversation_id,
            user_id=user_id,
            organization_id=organization_id,
            tool=tool,
            arguments=arguments,
            preview=preview,
            digest=digest or arguments_digest(arguments),
            idempotency_key=idempotency_key,
            risk=risk,
            confirm_name=confirm_name,
            changes=changes,
            status="pending",
            expires_at=expires_at,
            created_at=self._db.clock(),
            attempts=0,
        )
        if action_id is not None:
            row.id = action_id
        try:
            with self._db.write() as session:
                if session.get(Conversation, conversation_id) is None:
                    raise NotFoundError(f"conversation {conversation_id!r} does not exist")
                session.add(row)
                session.flush()
                return PendingActionData.of(row)
        except IntegrityError as exc:
            if self.get_by_idempotency_key(idempotency_key) is not None:
                raise DuplicateIdempotencyKeyError(idempotency_key) from exc
            raise

    def get(self, action_id: str) -> PendingActionData | None:
        with self._db.read() as session:
            row = session.get(PendingAction, action_id)
            return None if row is None else PendingActionData.of(row)

    def get_by_idempotency_key(self, key: str) -> PendingActionData | None:
        stmt = select(PendingAction).where(PendingAction.idempotency_key == key)
        with self._db.read() as session:
            row = session.scalars(stmt).first()
            return None if row is None else PendingActionData.of(row)

    def list(
        self,
        *,
        conversation_id: str | None = None,
        user_id: str | None = None,
        organization_id: str | None = None,
        status: str | Collection[str] | None = None,
        limit: int = 100,
    ) -> list[PendingActionData]:
        """Actions matching every given filter, newest first."""
        stmt = select(PendingAction)
        if conversation_id is not None:
            stmt = stmt.where(PendingAction.conversation_id == conversation_id)
        if user_id is not None:
            stmt = stmt.where(PendingAction.user_id == user_id)
        if organization_id is not None:
            stmt = stmt.where(PendingAction.organization_id == organization_id)
        if status is not None:
            stmt = stmt.where(PendingAction.status.in_(_statuses(status)))
        stmt = stmt.order_by(PendingAction.created_at.desc(), PendingAction.id).limit(limit)
        with self._db.read() as session:
            return [PendingActionData.of(row) for row in session.scalars(stmt)]

    def transition(
        self,
        action_id: str,
        expected_status: str | Collection[str],
        new_status: str,
        *,
        now: datetime | None = None,
        expected_digest: str | None = None,
        bump_attempts: bool = False,
        **fields: Any,
    ) -> bool:
        """Atomically move the action from `expected_status` to `new_status`; True if this call did.

        One UPDATE whose WHERE holds every condition: the id, the expected status (one or several),
        and optionally `expires_at > now` (not expired) and `digest == expected_digest` (the
        arguments are the ones the user approved). `fields` sets any of TRANSITION_FIELDS in the
        same statement; `bump_attempts` adds one to `attempts` (for the move to "executing").
        False means another caller won, the action is gone, or a condition no longer holds:
        re-read it with `get` to say which.
        """
        unknown = set(fields) - TRANSITION_FIELDS
        if unknown:
            raise ValueError(f"transition cannot set {sorted(unknown)}; allowed: {sorted(TRANSITION_FIELDS)}")
        (new,) = _statuses(new_status)
        values: dict[str, Any] = {"status": new, **fields}
        if bump_attempts:
            values["attempts"] = PendingAction.attempts + 1
        stmt = update(PendingAction).where(
            PendingAction.id == action_id, PendingAction.status.in_(_statuses(expected_status))
        )
        if now is not None:
            stmt = stmt.where(PendingAction.expires_at > now)
        if expected_digest is not None:
            stmt = stmt.where(PendingAction.digest == expected_digest)
        with self._db.write() as session:
            result = session.execute(stmt.values(**values).execution_options(synchronize_session=False))
            return int(cast(CursorResult[Any], result).rowcount) == 1

    def update_arguments(
        self,
        action_id: str,
        arguments: dict[str, Any],
        digest: str,
        preview: str,
        *,
        confirm_name: str | None = None,
        changes: builtins.list[dict[str, Any]] | None = None,
    ) -> bool:
        """Replace an edited action's arguments, digest and preview; only while it is pending.

        `confirm_name` replaces the name a destructive action must have typed back when given.
        False if the action is no longer pending (decided, expired) or does not exist.
        """
        values: dict[str, Any] = {"arguments": arguments, "digest": digest, "preview": preview}
        if confirm_name is not None:
            values["confirm_name"] = confirm_name
        if changes is not None:
            values["changes"] = changes
        stmt = (
            update(PendingAction)
            .where(PendingAction.id == action_id, PendingAction.status == "pending")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        with self._db.write() as session:
            return int(cast(CursorResult[Any], session.execute(stmt)).rowcount) == 1

    def expire_due(self, now: datetime | None = None) -> builtins.list[str]:
        """Mark every pending action whose expiry has passed as expired; return their ids.

        One UPDATE ... RETURNING, so an action approved at the same moment is either approved or
        expired, never both, and two expirers never report the same id.
        """
        now = now or self._db.clock()
        stmt = (
            update(PendingAction)
            .where(PendingAction.status == "pending", PendingAction.expires_at <= now)
            .values(status="expired", decided_at=now)
            .returning(PendingAction.id)
            .execution_options(synchronize_session=False)
        )
        with self._db.write() as session:
            return sorted(session.scalars(stmt))

    def require(self, action_id: str) -> PendingActionData:
        """`get`, raising NotFoundError instead of returning None."""
        action = self.get(action_id)
        if action is None:
            raise NotFoundError(f"pending action {action_id!r} does not exist")
        return action
