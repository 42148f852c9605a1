"""One transaction for a keyed write and the answer it will replay.

A write that carries an Idempotency-Key must leave either both the change and its stored answer,
or neither: if the process dies between two commits, a retry finds a resource but no answer, and
after the "still processing" window runs the write a second time. So for those requests the
idempotency middleware opens the request's session itself and hands it to the route (through
`REQUEST_SESSION`, which `get_session` reads); inside it a route's `commit()` only flushes and
records that the route wanted its changes kept. The middleware then writes the answer into the
same transaction and commits once.

A real platform needs the same property, by the same means: the idempotency record lives in the
database the write changes and is written in the write's transaction. Side effects outside that
database (an email, a payment, a call to another service) cannot join it; they need an outbox
row written in the transaction and delivered afterwards, or their own idempotency key downstream.
"""

from __future__ import annotations

from contextvars import ContextVar

from sqlalchemy.orm import Session


class DeferredCommitSession(Session):
    """A session whose `commit()` flushes and remembers the intent; the owner commits for real."""

    commit_requested: bool = False

    def commit(self) -> None:
        self.flush()
        self.commit_requested = True

    def rollback(self) -> None:
        super().rollback()
        self.commit_requested = False

    def commit_for_real(self) -> None:
        super().commit()


REQUEST_SESSION: ContextVar[DeferredCommitSession | None] = ContextVar(
    "sandbox_request_session", default=None
)
