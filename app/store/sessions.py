"""What a repository needs from the database: transactions, the dialect and the clock.

Repositories depend on this protocol rather than on `db.Database`, which builds them, so the store
has no import cycle: `db` imports the repositories, the repositories import only this.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session


class SessionSource(Protocol):
    """A database as its repositories use it (implemented by `app.store.db.Database`)."""

    clock: Callable[[], datetime]

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`: the few queries that differ by dialect branch on it."""
        ...

    def read(self) -> AbstractContextManager[Session]: ...

    def write(self) -> AbstractContextManager[Session]: ...
