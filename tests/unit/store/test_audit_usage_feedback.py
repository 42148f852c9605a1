"""Audit log, usage records and totals, feedback: on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.store import NotFoundError, Store

T0 = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)


# -- audit ---------------------------------------------------------------------------------------


def test_audit_add_and_filtered_lists(store: Store) -> None:
    e1 = store.audit.add(
        "proposed",
        user_id="u1",
        organization_id="o1",
        conversation_id="c1",
        action_id="a1",
        details={"tool": "create_track", "preview": "Créer « piste » ✓"},
        at=T0,
    )
    e2 = store.audit.add("approved", user_id="u1", organization_id="o1", action_id="a1", at=T0 + timedelta(1))
    e3 = store.audit.add("refused", user_id="u2", organization_id="o2", at=T0 + timedelta(2))

    assert [e.id for e in store.audit.list()] == [e3.id, e2.id, e1.id]
    assert [e.id for e in store.audit.list(newest_first=False)] == [e1.id, e2.id, e3.id]
    assert [e.event for e in store.audit.list(action_id="a1", newest_first=False)] == ["proposed", "approved"]
    assert [e.id for e in store.audit.list(user_id="u2")] == [e3.id]
    assert [e.id for e in store.audit.list(organization_id="o1", event="proposed")] == [e1.id]
    assert {e.id for e in store.audit.list(event=["approved", "refused"])} == {e2.id, e3.id}
    assert [e.id for e in store.audit.list(conversation_id="c1")] == [e1.id]
    assert [e.id for e in store.audit.list(since=T0 + timedelta(1), until=T0 + timedelta(2))] == [e2.id]
    assert len(store.audit.list(limit=1)) == 1
    (loaded,) = store.audit.list(event="proposed")
    assert loaded.details == {"tool": "create_track", "preview": "Créer « piste » ✓"} and loaded.at == T0


def test_audit_rejects_empty_or_long_events(store: Store) -> None:
    with pytest.raises(ValueError):
        store.audit.add("")
    with pytest.raises(ValueError):
        store.audit.add("x" * 33)


# -- usage ---------------------------------------------------------------------------------------


def seed_usage(store: Store) -> None:
    """Five calls over two UTC days, two users, two orgs, three models; one unpriced."""
    sonnet, haiku = "claude-sonnet-5-5", "claude-haiku-5-5"
    rows = [
        # at, user, org, conversation, provider, model, in, out, cw, cr, latency, cost
        (T0, "u1", "o1", "c1", "anthropic", sonnet, 100, 10, 5, 50, 100.0, "0.001"),
        (T0 + timedelta(minutes=119), "u1", "o1", "c1", "anthropic", sonnet, 200, 20, 0, 0, 300.0, "0.002"),
        (T0 + timedelta(hours=2), "u1", "o1", "c2", "anthropic", haiku, 300, 30, 0, 0, 50.0, "0.0005"),
        (T0 + timedelta(hours=3), "u2", "o2", "c3", "openai", "gpt-4.1", 400, 40, 0, 100, 200.0, "0.004"),
        (T0 + timedelta(hours=4), "u2", "o2", "c3", "openai", "my-local-llama", 500, 50, 0, 0, 1000.0, None),
    ]  # fmt: skip
    for at, user, org, conv, provider, model, i, o, cw, cr, latency, cost in rows:
        store.usage.add(
            at=at,
            user_id=user,
            organization_id=org,
            conversation_id=conv,
            provider=provider,
            model=model,
            input_tokens=i,
            output_tokens=o,
            cache_write_tokens=cw,
            cache_read_tokens=cr,
            latency_ms=latency,
            cost_usd=None if cost is None else Decimal(cost),
        )


def test_usage_add_and_list(store: Store) -> None:
    seed_usage(store)
    records = store.usage.list()
    assert len(records) == 5 and records[0].model == "my-local-llama"  # newest first
    assert records[0].cost_usd is None
    assert [r.model for r in store.usage.list(user_id="u1", until=T0 + timedelta(hours=2))] == [
        "claude-sonnet-5-5",
        "claude-sonnet-5-5",
    ]
    assert len(store.usage.list(organization_id="o2")) == 2
    assert len(store.usage.list(conversation_id="c1", since=T0 + timedelta(hours=1))) == 1


def test_usage_totals_by_day_split_at_utc_midnight(store: Store) -> None:
    seed_usage(store)
    by_day = store.usage.totals("day")
    assert [t.key for t in by_day] == ["2026-11-24", "2026-11-25"]
    day1, day2 = by_day
    assert (day1.calls, day1.input_tokens, day1.cost_usd) == (2, 300, Decimal("0.003"))
    assert (day2.calls, day2.input_tokens, day2.output_tokens) == (3, 1200, 120)
    # 0.0005 + 0.004 priced; the local model's call is unpriced and counted, not zeroed.
    assert (day2.cost_usd, day2.unpriced_calls) == (Decimal("0.0045"), 1)


def test_usage_totals_by_each_dimension(store: Store) -> None:
    seed_usage(store)
    by_model = {t.key: t for t in store.usage.totals("model")}
    assert set(by_model) == {"claude-sonnet-5-5", "claude-haiku-5-5", "gpt-4.1", "my-local-llama"}
    sonnet = by_model["claude-sonnet-5-5"]
    assert (sonnet.calls, sonnet.cache_write_tokens, sonnet.cache_read_tokens) == (2, 5, 50)
    assert sonnet.total_tokens == 300 + 30 + 5 + 50
    assert sonnet.latency_ms_avg == pytest.approx(200.0)
    assert by_model["my-local-llama"].cost_usd == 0 and by_model["my-local-llama"].unpriced_calls == 1

    by_provider = {t.key: (t.calls, t.cost_usd) for t in store.usage.totals("provider")}
    assert by_provider == {"anthropic": (3, Decimal("0.0035")), "openai": (2, Decimal("0.004"))}
    by_user = {t.key: t.calls for t in store.usage.totals("user")}
    assert by_user == {"u1": 3, "u2": 2}
    by_org = {t.key: t.cost_usd for t in store.usage.totals("organization")}
    assert by_org == {"o1": Decimal("0.0035"), "o2": Decimal("0.004")}
    by_conversation = {t.key: t.calls for t in store.usage.totals("conversation", user_id="u1")}
    assert by_conversation == {"c1": 2, "c2": 1}
    # Most expensive first for non-day groups.
    assert [t.key for t in store.usage.totals("organization")] == ["o2", "o1"]


def test_usage_totals_over_a_range_and_overall(store: Store) -> None:
    seed_usage(store)
    (overall,) = store.usage.totals()
    assert overall.key is None and overall.calls == 5 and overall.cost_usd == Decimal("0.0075")
    (window,) = store.usage.totals(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3))
    assert (window.calls, window.cost_usd) == (2, Decimal("0.0025"))  # until is exclusive
    assert store.usage.totals(since=T0 + timedelta(days=9)) == []
    assert store.usage.totals("day", organization_id="nobody") == []
    with pytest.raises(ValueError):
        store.usage.totals("week")  # type: ignore[arg-type]


def test_cost_today_counts_only_this_utc_day(store: Store) -> None:
    seed_usage(store)
    # u1 spent 0.003 on the 24th (UTC) and 0.0005 on the 25th.
    assert store.usage.cost_today("u1", now=T0 + timedelta(hours=1)) == Decimal("0.003")
    assert store.usage.cost_today("u1", now=T0 + timedelta(hours=5)) == Decimal("0.0005")
    assert store.usage.cost_today("u2", now=T0 + timedelta(hours=5)) == Decimal("0.004")
    assert store.usage.cost_today("nobody", now=T0) == 0


# -- feedback ------------------------------------------------------------------------------------


def test_feedback_add_replaces_a_users_earlier_vote(store: Store) -> None:
    conversation = store.conversations.create("u1")
    first = store.feedback.add(conversation.id, 2, "u1", 1, at=T0)
    again = store.feedback.add(
        conversation.id, 2, "u1", -1, "Wrong project — « DSF » ✗", at=T0 + timedelta(1)
    )
    store.feedback.add(conversation.id, 2, "u2", 1, at=T0 + timedelta(2))
    store.feedback.add(conversation.id, 4, "u1", 1, at=T0 + timedelta(3))

    assert again.id == first.id and (again.rating, again.comment) == (-1, "Wrong project — « DSF » ✗")
    assert len(store.feedback.list(conversation_id=conversation.id)) == 3
    assert [f.message_seq for f in store.feedback.list(user_id="u1")] == [4, 2]
    assert [f.user_id for f in store.feedback.list(rating=-1)] == ["u1"]
    assert len(store.feedback.list(since=T0 + timedelta(2))) == 2
    assert len(store.feedback.list(until=T0 + timedelta(2))) == 1
    assert store.feedback.counts() == {"up": 2, "down": 1}
    assert store.feedback.counts(since=T0 + timedelta(3)) == {"up": 1, "down": 0}


def test_feedback_validates_rating_and_conversation(store: Store) -> None:
    conversation = store.conversations.create("u1")
    with pytest.raises(ValueError):
        store.feedback.add(conversation.id, 1, "u1", 0)
    with pytest.raises(NotFoundError):
        store.feedback.add("missing", 1, "u1", 1)
