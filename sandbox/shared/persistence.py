"""Writing rows that a unique constraint may refuse.

Uniqueness rules are checked twice: once before the write, to answer with a precise message,
and by the database constraint, which is what makes them hold when two requests race. The
constraint can fire at any flush inside the write (not only at commit), so the whole write runs
inside `guarded_write`: on a violation (the other request committed first) the transaction is
rolled back and the same check runs again to name the field and rule, so both paths give the
same 409.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sandbox.shared.errors import ApiError, conflict

ConflictCheck = Callable[[], ApiError | None]


@contextmanager
def guarded_write(session: Session, find_conflict: ConflictCheck) -> Iterator[None]:
    """Run the block and commit; a constraint violation becomes the conflict `find_conflict` names."""
    try:
        yield
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        error = find_conflict()
        if error is not None:
            raise error from exc
        raise conflict("The change clashes with data saved at the same time; retry", rule="conflict") from exc


def raise_if_conflict(find_conflict: ConflictCheck) -> None:
    """The pre-check: raise the conflict now if there already is one."""
    error = find_conflict()
    if error is not None:
        raise error
