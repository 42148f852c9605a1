"""Login throttling that slows a password guesser without letting a stranger lock anyone out.

Failures are counted per (source address, account). After `auth.login_max_failed_attempts`
failures inside `auth.login_window_seconds`, that source must wait before trying that account
again, and the wait doubles with every further failure (1 s, 2 s, 4 s ... capped at the window).
The real user, signing in from their own address, is never slowed down by someone else's wrong
guesses, and a right password clears their own counter. A source that fails against many
accounts (a sweep) is throttled as a whole after `sweep_factor` times the per-account allowance.

Emails are compared in lower case, so "Maya@X" and "maya@x" are one account. Only failures count.

What this does not stop: a guessing attack spread over many addresses against one account.
The slow password hash bounds it; a real platform adds detection and a second factor (never a
lockout a stranger can trigger). Counters live in process memory: the sandbox runs as one
process; a multi-process deployment would keep them in Redis.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Failures:
    times: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0


class LoginRateLimiter:
    """Sliding-window failure counters per (source, account) and per source, with backoff."""

    def __init__(
        self,
        max_failures: int,
        window_seconds: int,
        clock: Callable[[], float] = time.monotonic,
        sweep_factor: int = 10,
    ) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self.sweep_limit = max_failures * sweep_factor
        self._clock = clock
        self._by_pair: dict[tuple[str, str], _Failures] = {}
        self._by_source: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def _pruned(self, failures: _Failures, now: float) -> _Failures:
        while failures.times and now - failures.times[0] >= self.window_seconds:
            failures.times.popleft()
        return failures

    def retry_after(self, source: str, email: str) -> int | None:
        """Seconds until `source` may try `email` again, or None when it may try now."""
        key = email.lower()
        with self._lock:
            now = self._clock()
            waits = [
                entry.blocked_until - now
                for entry in (self._by_pair.get((source, key)), self._by_source.get(source))
                if entry is not None and entry.blocked_until > now
            ]
            return max(1, int(max(waits) + 0.999)) if waits else None

    def record_failure(self, source: str, email: str) -> None:
        """Count one failed login; past the allowance, block the source (for this account) a while."""
        key = email.lower()
        with self._lock:
            now = self._clock()
            pair = self._pruned(self._by_pair.setdefault((source, key), _Failures()), now)
            pair.times.append(now)
            pair.blocked_until = max(
                pair.blocked_until, now + self._backoff(len(pair.times), self.max_failures)
            )
            sweep = self._pruned(self._by_source.setdefault(source, _Failures()), now)
            sweep.times.append(now)
            sweep.blocked_until = max(
                sweep.blocked_until, now + self._backoff(len(sweep.times), self.sweep_limit)
            )

    def _backoff(self, failures: int, allowance: int) -> float:
        if failures < allowance:
            return 0.0
        return float(min(self.window_seconds, 2 ** (failures - allowance)))

    def reset(self, source: str, email: str) -> None:
        """A right password: forget this source's failures against this account."""
        with self._lock:
            self._by_pair.pop((source, email.lower()), None)
