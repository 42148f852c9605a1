"""An exclusive, non-blocking lock on a file: one build, or one passage fill, per index at a time.

The lock is the kernel's (flock), so a process that dies (even by SIGKILL) releases it at once;
no stale lock file can keep the next run out.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(lock_path: Path, busy: Callable[[Path], Exception]) -> Iterator[None]:
    """Hold `lock_path` for the block; raise `busy(lock_path)` at once if another process holds it."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise busy(lock_path) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
