"""Per-user daily budgets and per-user request rate limits, checked before a turn starts.

Both raise an exception whose message is meant for the user as is: what limit was hit and when
they can go on. A setting of 0 disables either.

Budget: spend is read from the usage ledger (priced calls since the last UTC midnight) and the
check runs before each turn, so the turn that crosses the line finishes and the next one is
refused. Calls of unknown cost do not count (they have no price to count).

Rate limit: a sliding window (at most N messages in any 60 s). In-process for one server; Redis
when REDIS_URL is set, so every process shares one count. If Redis fails, the limiter FAILS OPEN
to a per-process window of the same size and logs a warning (at most every few seconds), and
retries Redis after a short pause: an outage of the limiter's store must never lock every user
out, and users stay limited per process meanwhile. `degraded` tells the dashboard this happened.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Protocol

import redis

from app.store.repositories.usage import next_utc_midnight
from app.store.types import as_utc, utcnow

if TYPE_CHECKING:
    from app.config import Settings
    from app.usage.ledger import UsageLedger

log = logging.getLogger(__name__)

CENT = Decimal("0.01")


def _dollars(amount: Decimal) -> str:
    if 0 < abs(amount) < CENT:  # sub-cent budgets and spends stay readable
        return f"${amount.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP)}"
    return f"${amount.quantize(CENT, rounding=ROUND_HALF_UP)}"


def _duration(seconds: float) -> str:
    seconds = max(1, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


# -- daily budget --------------------------------------------------------------------------------


class BudgetExceeded(Exception):
    """The user has spent their daily LLM budget; the message says how much and when it resets."""

    def __init__(self, user_id: str, spent: Decimal, budget: Decimal, resets_at: datetime, now: datetime):
        self.user_id = user_id
        self.spent = spent
        self.budget = budget
        self.resets_at = resets_at
        self.retry_after = max(0.0, (resets_at - now).total_seconds())
        super().__init__(
            f"Daily budget reached: you have spent {_dollars(spent)} of your {_dollars(budget)} "
            f"daily budget. It resets at midnight UTC ({resets_at:%Y-%m-%d %H:%M} UTC), in "
            f"{_duration(self.retry_after)}."
        )


class DailyBudget:
    """A per-user cap on LLM spend per UTC day; a budget of 0 disables it."""

    def __init__(
        self,
        ledger: UsageLedger,
        budget_usd: float | Decimal | str,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.ledger = ledger
        # Through str: 5.1 (float) must mean $5.10, not 5.0999999999999996447...
        self.budget = Decimal(str(budget_usd))
        self.clock = clock

    @property
    def enabled(self) -> bool:
        return self.budget > 0

    def spent_today(self, user_id: str) -> Decimal:
        return self.ledger.cost_today(user_id, self.clock())

    def remaining(self, user_id: str) -> Decimal | None:
        """What is left today (never negative); None when budgets are disabled."""
        if not self.enabled:
            return None
        return max(Decimal(0), self.budget - self.spent_today(user_id))

    def check(self, user_id: str) -> None:
        """Raise BudgetExceeded if `user_id` has nothing left today."""
        if not self.enabled:
            return
        now = as_utc(self.clock())
        spent = self.ledger.cost_today(user_id, now)
        if spent >= self.budget:
            raise BudgetExceeded(user_id, spent, self.budget, next_utc_midnight(now), now)


# -- rate limits ---------------------------------------------------------------------------------


class RateLimited(Exception):
    """Too many requests in the window; `retry_after` is the seconds until one more is allowed."""

    def __init__(self, key: str, limit: int, window_s: float, retry_after: float) -> None:
        self.key = key
        self.limit = limit
        self.window_s = window_s
        self.retry_after = max(0.0, retry_after)
        per = "per minute" if window_s == 60 else f"every {_duration(window_s)}"
        super().__init__(
            f"You are sending messages too quickly: the limit is {limit} {per}. "
            f"Try again in {_duration(self.retry_after)}."
        )


class RateLimiter(Protocol):
    """Counts one request for `key` (a user id), or raises RateLimited without counting it."""

    def hit(self, key: str) -> None: ...


class NoRateLimit:
    """The limiter when USER_REQUESTS_PER_MINUTE is 0."""

    def hit(self, key: str) -> None:
        return None


class InProcessRateLimiter:
    """A thread-safe sliding-window log per key, for a single process."""

    def __init__(
        self, limit: int, window_s: float = 60.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        if self.limit <= 0:
            return
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                raise RateLimited(key, self.limit, self.window_s, hits[0] + self.window_s - now)
            hits.append(now)
            if len(self._hits) > 10_000:
                self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        for idle in [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window_s]:
            del self._hits[idle]


# Sliding window in one atomic script: drop hits older than the window, refuse if the window is
# full (returning the microseconds until the oldest hit leaves it), else add this hit. The time is
# the Redis server's, so every process agrees on it whatever their own clocks say (a test may pass
# its own clock as ARGV[4] instead).
_SLIDING_WINDOW_LUA = """
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window_us = tonumber(ARGV[2])
local now = tonumber(ARGV[4])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window_us)
if redis.call('ZCARD', key) >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window_us - now}
end
redis.call('ZADD', key, now, ARGV[3])
redis.call('PEXPIRE', key, math.ceil(window_us / 1000))
return {1, 0}
"""


class RedisRateLimiter:
    """A sliding window shared by every process, in a Redis sorted set per key.

    Keys are `<prefix>ratelimit:<key>` and expire one window after their last hit. On any Redis
    error the limiter fails open to `fallback` (a per-process window) for `retry_interval_s`.
    """

    def __init__(
        self,
        client: redis.Redis,
        limit: int,
        window_s: float = 60.0,
        *,
        prefix: str = "cca:",
        fallback: RateLimiter | None = None,
        retry_interval_s: float = 5.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """`clock` (seconds) replaces Redis's time for the window and the monotonic clock for the
        outage interval: tests move it instead of sleeping. Production leaves it None."""
        self.client = client
        self.limit = limit
        self.window_s = window_s
        self.prefix = prefix
        self.fallback = fallback or InProcessRateLimiter(limit, window_s)
        self.retry_interval_s = retry_interval_s
        self._clock = clock
        self._script = client.register_script(_SLIDING_WINDOW_LUA)
        self._down_until = 0.0
        self._state_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, limit: int, window_s: float = 60.0, **kwargs: Any) -> RedisRateLimiter:
        # Short timeouts: a hung Redis must cost a request half a second, not the default forever.
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        return cls(client, limit, window_s, **kwargs)

    def key_for(self, key: str) -> str:
        return f"{self.prefix}ratelimit:{key}"

    @property
    def degraded(self) -> bool:
        """True while Redis is failing and the per-process fallback is counting instead."""
        return self._now() < self._down_until

    def _now(self) -> float:
        return self._clock() if self._clock is not None else time.monotonic()

    def hit(self, key: str) -> None:
        if self.limit <= 0:
            return
        if self.degraded:
            self.fallback.hit(key)
            return
        args: list[int | str] = [self.limit, int(self.window_s * 1_000_000), secrets.token_hex(8)]
        if self._clock is not None:
            args.append(int(self._clock() * 1_000_000))
        try:
            allowed, wait_us = self._script(keys=[self.key_for(key)], args=args)
        except redis.RedisError as exc:
            self._went_down(exc)
            self.fallback.hit(key)
            return
        if not int(allowed):
            raise RateLimited(key, self.limit, self.window_s, int(wait_us) / 1_000_000)

    def _went_down(self, exc: Exception) -> None:
        with self._state_lock:
            already = self.degraded
            self._down_until = self._now() + self.retry_interval_s
        if not already:
            log.warning(
                "rate limiter: Redis failed (%s); failing open to per-process limits for %.0f s",
                exc,
                self.retry_interval_s,
            )


def build_rate_limiter(settings: Settings) -> RateLimiter:
    """No limit if USER_REQUESTS_PER_MINUTE is 0, Redis if REDIS_URL is set, else in-process."""
    limit = settings.user_requests_per_minute
    if limit <= 0:
        return NoRateLimit()
    if settings.redis_url:
        return RedisRateLimiter.from_url(settings.redis_url, limit, prefix=settings.redis_key_prefix)
    return InProcessRateLimiter(limit)


def build_budget(settings: Settings, ledger: UsageLedger) -> DailyBudget:
    return DailyBudget(ledger, settings.user_daily_budget_usd)
