"""Daily budgets (on both backends) and rate limits (in-process, real Redis, Redis down)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import redis

from app.config import PROJECT_ROOT, Settings
from app.store import Store
from app.usage.ledger import UsageLedger
from app.usage.limits import (
    BudgetExceeded,
    DailyBudget,
    InProcessRateLimiter,
    NoRateLimit,
    RateLimited,
    RedisRateLimiter,
    build_budget,
    build_rate_limiter,
)
from app.usage.pricing import PricingTable
from app.usage.usage import Usage
from tests.support.concurrency import race
from tests.support.redis_server import closed_loopback_port

NOW = datetime(2026, 11, 25, 21, 30, tzinfo=UTC)


@pytest.fixture
def ledger(store: Store) -> UsageLedger:
    return UsageLedger(store, PricingTable.load(PROJECT_ROOT / "app" / "usage" / "price_overrides.json"))


def spend(ledger: UsageLedger, user_id: str, dollars: str, at: datetime) -> None:
    """Record a call that costs exactly `dollars`: Opus 5.5 output is $20 per million tokens."""
    tokens = int(Decimal(dollars) * 1_000_000 / 20)
    record = ledger.record(
        "anthropic", "claude-opus-5-5", Usage(output_tokens=tokens), 100.0, user_id=user_id, at=at
    )
    assert record.cost_usd == Decimal(dollars)


# -- budget --------------------------------------------------------------------------------------


def test_budget_exceeded_says_spent_budget_and_when_it_resets(ledger: UsageLedger) -> None:
    budget = DailyBudget(ledger, 5.0, clock=lambda: NOW)
    spend(ledger, "u1", "3.00", NOW - timedelta(hours=3))
    budget.check("u1")  # $3 of $5: fine
    assert budget.remaining("u1") == Decimal("2")
    spend(ledger, "u1", "2.0125", NOW - timedelta(hours=1))

    with pytest.raises(BudgetExceeded) as raised:
        budget.check("u1")
    error = raised.value
    assert (error.spent, error.budget) == (Decimal("5.0125"), Decimal("5"))
    assert error.resets_at == datetime(2026, 11, 26, tzinfo=UTC)
    assert error.retry_after == 2.5 * 3600
    assert str(error) == (
        "Daily budget reached: you have spent $5.01 of your $5.00 daily budget. "
        "It resets at midnight UTC (2026-11-26 00:00 UTC), in 2 h 30 min."
    )
    assert budget.remaining("u1") == 0
    budget.check("u2")  # budgets are per user


def test_budget_counts_only_today_utc(ledger: UsageLedger) -> None:
    budget = DailyBudget(ledger, "1", clock=lambda: NOW)
    midnight = datetime(2026, 11, 25, tzinfo=UTC)
    spend(ledger, "u1", "4.00", midnight - timedelta(microseconds=1))  # yesterday, 23:59:59.999999
    budget.check("u1")
    spend(ledger, "u1", "1.00", midnight)  # exactly midnight: today
    with pytest.raises(BudgetExceeded):
        budget.check("u1")


def test_unpriced_calls_do_not_count_against_the_budget(ledger: UsageLedger) -> None:
    budget = DailyBudget(ledger, "0.01", clock=lambda: NOW)
    ledger.record("openai", "llama3.1:8b", Usage(10_000_000, 10_000_000), 5.0, user_id="u1", at=NOW)
    budget.check("u1")


def test_a_zero_budget_disables_the_check(ledger: UsageLedger) -> None:
    budget = DailyBudget(ledger, 0, clock=lambda: NOW)
    spend(ledger, "u1", "100", NOW)
    budget.check("u1")
    assert not budget.enabled and budget.remaining("u1") is None


def test_budget_from_settings_keeps_decimal_dollars(ledger: UsageLedger) -> None:
    budget = build_budget(Settings(_env_file=None, user_daily_budget_usd=5.1), ledger)
    assert budget.budget == Decimal("5.1")


# -- in-process rate limit -----------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_in_process_sliding_window() -> None:
    clock = FakeClock()
    limiter = InProcessRateLimiter(3, 60, clock=clock)
    for _ in range(3):
        limiter.hit("u1")
        clock.now += 5  # hits at 1000, 1005, 1010
    limiter.hit("u2")  # another user has their own window

    with pytest.raises(RateLimited) as raised:
        limiter.hit("u1")  # at 1015: the oldest hit (1000) leaves the window at 1060
    assert raised.value.retry_after == 45
    assert str(raised.value) == (
        "You are sending messages too quickly: the limit is 3 per minute. Try again in 45 s."
    )
    clock.now = 1059.9
    with pytest.raises(RateLimited):
        limiter.hit("u1")  # a refused hit is not counted, and the window has not moved yet
    clock.now = 1060.0
    limiter.hit("u1")  # the 1000 hit is out
    with pytest.raises(RateLimited) as again:
        limiter.hit("u1")
    assert again.value.retry_after == pytest.approx(5.0)  # next to leave: the 1005 hit


def test_in_process_limit_is_exact_under_threads() -> None:
    limiter = InProcessRateLimiter(50, 60)

    def work(i: int) -> int:
        allowed = 0
        for _ in range(10):
            try:
                limiter.hit("shared-user")
                allowed += 1
            except RateLimited:
                pass
        return allowed

    assert sum(race(20, work)) == 50


def test_zero_disables_rate_limits() -> None:
    limiter = InProcessRateLimiter(0)
    for _ in range(1000):
        limiter.hit("u1")
    settings = Settings(_env_file=None, user_requests_per_minute=0, redis_url="redis://127.0.0.1:1/0")
    assert isinstance(build_rate_limiter(settings), NoRateLimit)


def test_build_rate_limiter_picks_the_backend() -> None:
    local = build_rate_limiter(Settings(_env_file=None, redis_url=None, user_requests_per_minute=20))
    assert isinstance(local, InProcessRateLimiter) and local.limit == 20
    shared = build_rate_limiter(
        Settings(
            _env_file=None,
            redis_url="redis://127.0.0.1:6379/0",
            redis_key_prefix="x:",
            user_requests_per_minute=5,
        )
    )
    assert isinstance(shared, RedisRateLimiter)
    assert shared.key_for("u1") == "x:ratelimit:u1"
    shared.client.close()


# -- Redis rate limit ----------------------------------------------------------------------------


@pytest.mark.redis
def test_redis_sliding_window_is_shared_between_limiters(redis_url: str, redis_key_prefix: str) -> None:
    # Two limiters stand for two server processes sharing one Redis.
    now = [1_000.0]
    first = RedisRateLimiter.from_url(redis_url, 3, 1.0, prefix=redis_key_prefix, clock=lambda: now[0])
    second = RedisRateLimiter.from_url(redis_url, 3, 1.0, prefix=redis_key_prefix, clock=lambda: now[0])
    first.hit("u1")
    first.hit("u1")
    second.hit("u1")
    second.hit("u2")
    with pytest.raises(RateLimited) as raised:
        first.hit("u1")
    assert raised.value.retry_after == 1.0

    client = redis.Redis.from_url(redis_url)
    key = first.key_for("u1")
    assert key.startswith(redis_key_prefix)
    assert client.zcard(key) == 3  # the refused hit was not counted
    assert 0 < client.pttl(key) <= 1000  # keys expire one window after the last hit

    now[0] += 0.5
    with pytest.raises(RateLimited):
        second.hit("u1")  # half a window later: still full
    now[0] += 0.5 + 1e-6
    second.hit("u1")  # the oldest hits have left the window
    assert not first.degraded
    for limiter in (first, second):
        limiter.client.close()
    client.close()


@pytest.mark.redis
def test_redis_limit_is_exact_under_concurrency(redis_url: str, redis_key_prefix: str) -> None:
    limiter = RedisRateLimiter.from_url(redis_url, 20, 60, prefix=redis_key_prefix)

    def work(i: int) -> int:
        allowed = 0
        for _ in range(5):
            try:
                limiter.hit("busy-user")
                allowed += 1
            except RateLimited:
                pass
        return allowed

    assert sum(race(10, work)) == 20
    limiter.client.close()


def test_redis_down_fails_open_to_per_process_limits_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    dead = f"redis://127.0.0.1:{closed_loopback_port()}/0"
    now = [50.0]
    limiter = RedisRateLimiter.from_url(
        dead, 2, 60, prefix="cca_test_dead:", retry_interval_s=5, clock=lambda: now[0]
    )
    # a hung Redis costs a request half a second at most, never the client's default of forever
    assert limiter.client.connection_pool.connection_kwargs["socket_connect_timeout"] == 0.5
    assert limiter.client.connection_pool.connection_kwargs["socket_timeout"] == 0.5
    with caplog.at_level(logging.WARNING, logger="app.usage.limits"):
        limiter.hit("u1")  # Redis refuses the connection: allowed, counted locally
        limiter.hit("u1")
        assert limiter.degraded
        with pytest.raises(RateLimited):
            limiter.hit("u1")  # still limited, per process
    warnings = [r for r in caplog.records if "failing open" in r.getMessage()]
    assert len(warnings) == 1  # one warning per outage window, not one per request

    now[0] += 5  # the retry interval passes: Redis is tried again, fails, warns again
    with caplog.at_level(logging.WARNING, logger="app.usage.limits"):
        limiter.hit("u2")
    assert len([r for r in caplog.records if "failing open" in r.getMessage()]) == 2
    limiter.client.close()


@pytest.mark.redis
def test_redis_is_used_again_after_an_outage(redis_url: str, redis_key_prefix: str) -> None:
    now = [10.0]
    limiter = RedisRateLimiter.from_url(
        redis_url, 5, 60, prefix=redis_key_prefix, retry_interval_s=5, clock=lambda: now[0]
    )
    limiter._went_down(redis.ConnectionError("simulated outage"))
    limiter.hit("u1")  # during the outage: counted in the fallback only
    client = redis.Redis.from_url(redis_url)
    assert client.exists(limiter.key_for("u1")) == 0
    now[0] += 5
    limiter.hit("u1")  # back on Redis
    assert not limiter.degraded and client.zcard(limiter.key_for("u1")) == 1
    client.close()
    limiter.client.close()
