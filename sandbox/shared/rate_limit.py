"""Login throttling: too many failed logins for one email inside a window answer 429.

Only failures count, so a person who types their password right is never slowed down, while a
script guessing passwords for one account is stopped after `auth.login_max_failed_attempts`
within `auth.login_window_seconds` (platform.yaml). Kept in process memory: the sandbox runs as
one process; a multi-process deployment would keep these counters in Redis instead.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class LoginRateLimiter:
    """Sliding-window counter of failed logins per normalized email address."""

    def __init__(
        self, max_failures: int, window_seconds: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, email: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(email, deque())
        while failures and now - failures[0] >= self.window_seconds:
            failures.popleft()
        return failures

    def retry_after(self, email: str) -> int | None:
        """Seconds until `email` may try again, or None when it is not blocked."""
        with self._lock:
            now = self._clock()
            failures = self._prune(email, now)
            if len(failures) < self.max_failures:
                return None
            return max(1, int(self.window_seconds - (now - failures[0])) + 1)

    def record_failure(self, email: str) -> None:
        """Count one failed login for `email`."""
        with self._lock:
            self._prune(email, self._clock()).append(self._clock())

    def reset(self, email: str) -> None:
        """Forget the failures of `email` (after a successful login)."""
        with self._lock:
            self._failures.pop(email, None)
