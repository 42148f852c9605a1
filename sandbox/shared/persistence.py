"""Committing writes that a unique constraint may refuse.

Uniqueness rules are checked twice: once before the write, to answer with a precise message,
and by the database constraint at commit, which is what makes them hold when two requests race.
When the constraint fires (the other request committed first), the transaction is rolled back
and the same check runs again to name the field and rule, so both paths give the same 409.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sandbox.shared.errors import ApiError, conflict

ConflictCheck = Callable[[], ApiError | None]


def commit_or_conflict(session: Session, find_conflict: ConflictCheck) -> None:
    """Commit; on a constraint violation roll back and raise the conflict `find_conflict` names."""
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        error = find_conflict()
        if error is not None:
            raise error from exc
        raise conflict("The change clashes with data saved at the same time", rule="conflict") from exc


def raise_if_conflict(find_conflict: ConflictCheck) -> None:
    """The pre-check: raise the conflict now if there already is one."""
    error = find_conflict()
    if error is not None:
        raise error
