"""The usage ledger on both backends: costs recorded at call time, dashboard summaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from app.config import PROJECT_ROOT
from app.store import Store
from app.usage.ledger import UsageLedger
from app.usage.pricing import PricingTable
from app.usage.usage import Usage

T0 = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)


@pytest.fixture
def ledger(store: Store) -> UsageLedger:
    return UsageLedger(store, PricingTable.load(PROJECT_ROOT / "app" / "usage" / "price_overrides.json"))


def seed(ledger: UsageLedger) -> None:
    # u1/o1 in conversation c1 on the 24th: Sonnet 5.5 with cache tokens
    ledger.record(
        "anthropic", "claude-sonnet-5-5", Usage(1_000, 100, 200, 3_000), 850.0, "c1", "u1", "o1", at=T0
    )
    # u1/o1 in c2 on the 25th: Haiku 5.5
    ledger.record(
        "anthropic",
        "claude-haiku-5-5",
        Usage(80_000, 2_000, 10_000, 9_000),
        400.0,
        "c2",
        "u1",
        "o1",
        at=T0 + timedelta(hours=2),
    )
    # u2/o2 in c3 on the 25th: a self-hosted model (no price) and GPT-4.1
    ledger.record(
        "openai", "llama3.1:8b", Usage(500, 50), 1200.0, "c3", "u2", "o2", at=T0 + timedelta(hours=3)
    )
    ledger.record(
        "openai", "gpt-4.1", Usage(600, 250, 0, 400), 300.0, "c3", "u2", "o2", at=T0 + timedelta(hours=4)
    )
    # the offline planner: no API call, so exactly free
    ledger.record("offline", "planner", Usage(), 5.0, "c4", "u3", "o2", at=T0 + timedelta(hours=5))


def test_record_stores_the_cost_computed_at_call_time(ledger: UsageLedger) -> None:
    record = ledger.record(
        "anthropic", "claude-sonnet-5-5", Usage(1_000, 100, 200, 3_000, requests=1), 850.5, "c1", "u1", "o1"
    )
    # 1,000 x $2 + 100 x $10 + 200 x $2.50 + 3,000 x $0.10, per million = $0.0038
    assert record.cost_usd == Decimal("0.0038")
    assert (
        record.input_tokens,
        record.output_tokens,
        record.cache_write_tokens,
        record.cache_read_tokens,
    ) == (
        1_000,
        100,
        200,
        3_000,
    )
    assert (record.provider, record.model, record.latency_ms) == ("anthropic", "claude-sonnet-5-5", 850.5)
    assert (record.conversation_id, record.user_id, record.organization_id) == ("c1", "u1", "o1")
    assert ledger.store.usage.list()[0] == record


def test_unknown_models_are_recorded_with_null_cost_and_offline_costs_zero(ledger: UsageLedger) -> None:
    assert ledger.record("openai", "llama3.1:8b", Usage(500, 50), 10.0).cost_usd is None
    assert ledger.record("offline", "planner", Usage(10, 10), 1.0).cost_usd == 0


def test_summaries_per_day_model_user_organization_conversation(ledger: UsageLedger) -> None:
    seed(ledger)
    # Hand-computed costs: sonnet call $0.0038; haiku call $0.01034 (low band, see test_pricing);
    # gpt-4.1: 600 x $2 + 250 x $8 + 400 x $0.50 = $0.0034; llama unpriced; offline $0.
    days = ledger.by_day()
    assert [d["day"] for d in days] == ["2026-11-24", "2026-11-25"]
    assert days[0]["cost_usd"] == pytest.approx(0.0038)
    assert days[1]["cost_usd"] == pytest.approx(0.01034 + 0.0034)
    assert days[1]["unpriced_calls"] == 1 and days[1]["calls"] == 4

    models = {m["model"]: m for m in ledger.by_model()}
    assert models["llama3.1:8b"]["cost_usd"] is None  # unknown, not zero
    assert models["planner"]["cost_usd"] == 0.0
    assert models["claude-sonnet-5-5"]["total_tokens"] == 1_000 + 100 + 200 + 3_000
    assert models["claude-sonnet-5-5"]["latency_ms_avg"] == 850.0

    users = {u["user_id"]: u["cost_usd"] for u in ledger.by_user()}
    assert users == pytest.approx({"u1": 0.0038 + 0.01034, "u2": 0.0034, "u3": 0.0})
    orgs = {o["organization_id"]: (o["calls"], o["unpriced_calls"]) for o in ledger.by_organization()}
    assert orgs == {"o1": (2, 0), "o2": (3, 1)}
    conversations = {c["conversation_id"]: c["calls"] for c in ledger.by_conversation(organization_id="o2")}
    assert conversations == {"c3": 2, "c4": 1}
    providers = {p["provider"]: p["calls"] for p in ledger.by_provider()}
    assert providers == {"anthropic": 2, "openai": 2, "offline": 1}


def test_summaries_respect_date_ranges_and_filters(ledger: UsageLedger) -> None:
    seed(ledger)
    since = T0 + timedelta(hours=1)  # midnight UTC is T0 + 1 h
    assert [d["day"] for d in ledger.by_day(since=since)] == ["2026-11-25"]
    assert ledger.by_model(user_id="u1", until=since) == [
        {
            "model": "claude-sonnet-5-5",
            "calls": 1,
            "input_tokens": 1_000,
            "output_tokens": 100,
            "cache_write_tokens": 200,
            "cache_read_tokens": 3_000,
            "total_tokens": 4_300,
            "cost_usd": pytest.approx(0.0038),
            "unpriced_calls": 0,
            "estimated_calls": 0,
            "latency_ms_avg": 850.0,
        }
    ]


def test_conversation_total_and_empty_totals(ledger: UsageLedger) -> None:
    seed(ledger)
    c3 = ledger.conversation_total("c3")
    assert (c3["calls"], c3["unpriced_calls"], c3["input_tokens"]) == (2, 1, 1_100)
    assert c3["cost_usd"] == pytest.approx(0.0034)
    empty = ledger.conversation_total("nothing-here")
    assert (empty["calls"], empty["cost_usd"], empty["total_tokens"]) == (0, 0.0, 0)


def test_cost_today_and_recent(ledger: UsageLedger) -> None:
    seed(ledger)
    assert ledger.cost_today("u1", now=T0 + timedelta(hours=6)) == Decimal("0.01034")
    assert ledger.cost_today("u1", now=T0) == Decimal("0.0038")
    recent = ledger.recent(limit=2)
    assert [r["model"] for r in recent] == ["planner", "gpt-4.1"]
    assert recent[1]["cost_usd"] == pytest.approx(0.0034)
    assert [r["cost_usd"] for r in ledger.recent(user_id="u2")] == [pytest.approx(0.0034), None]


def test_summaries_load_straight_into_pandas(ledger: UsageLedger) -> None:
    seed(ledger)
    frame = pd.DataFrame(ledger.by_model())
    assert {"model", "calls", "cost_usd", "unpriced_calls", "total_tokens"} <= set(frame.columns)
    assert frame["calls"].sum() == 5
    assert frame["cost_usd"].isna().sum() == 1  # the unpriced model shows as missing, not 0
    assert frame["cost_usd"].sum() == pytest.approx(0.0038 + 0.01034 + 0.0034)
    assert len(pd.DataFrame(ledger.recent())) == 5
