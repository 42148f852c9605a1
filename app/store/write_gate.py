"""One SQLite writer at a time, queued in the kernel instead of in SQLite's busy handler.

SQLite lets one connection write at a time; the others wait in its busy handler, which sleeps and
retries (1, 2, 5 … up to 100 ms a try) and is not fair: under load (fifty turns journaling at once,
two API workers on one file) a writer can sleep through many others' short transactions, and the
slowest turns wait seconds. So on a SQLite file every write transaction first takes this gate: a
thread lock within the process, then an exclusive flock on `<database>.write-lock` between
processes. Both block without polling and wake the next waiter as soon as the holder is done, so
`BEGIN IMMEDIATE` finds the database free. Nested writes in one thread pass straight through.
PostgreSQL has row locks and needs no gate.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriteGate:
    def __init__(self, lock_path: Path) -> None:
        self.lock_path = lock_path
        self._thread_lock = threading.Lock()
        self._depth = threading.local()
        self._fd: int | None = None
        self._fd_lock = threading.Lock()

    def _file(self) -> int:
        with self._fd_lock:
            if self._fd is None:
                self.lock_path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            return self._fd

    @contextmanager
    def held(self) -> Iterator[None]:
        depth = getattr(self._depth, "n", 0)
        if depth:  # this thread already holds the gate
            self._depth.n = depth + 1
            try:
                yield
            finally:
                self._depth.n = depth
            return
        fd = self._file()
        with self._thread_lock:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._depth.n = 1
            try:
                yield
            finally:
                self._depth.n = 0
                fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._fd_lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
