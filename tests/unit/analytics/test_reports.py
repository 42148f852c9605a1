"""The operator pages' figures against values worked out by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from app.analytics import actions_report, activity, usage_report
from app.analytics.numbers import percentile, ratio
from app.analytics.scope import Period, Scope, scope_for
from app.permissions.policy import UserContext
from app.store import Store

DAY1 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
PERIOD = Period(date(2026, 11, 20), date(2026, 11, 21))
ORG_A, ORG_B = "org-a", "org-b"


def test_percentile_and_ratio() -> None:
    assert percentile([100, 200, 300, 400, 1000], 50) == 300
    assert percentile([100, 200, 300, 400, 1000], 95) == pytest.approx(880.0)  # 400 + 0.8 * 600
    assert percentile([5], 95) == 5 and percentile([], 50) is None
    assert ratio(1, 4) == 0.25 and ratio(0, 0) is None


def test_periods_and_scopes() -> None:
    assert PERIOD.days == ["2026-11-20", "2026-11-21"]
    assert PERIOD.since == datetime(2026, 11, 20, tzinfo=UTC) and PERIOD.until == datetime(
        2026, 11, 22, tzinfo=UTC
    )
    site = UserContext("s", "s@x", "S", "site_admin", None, "t")
    admin = UserContext("a", "a@x", "A", "organization_admin", ORG_A, "t")
    assert scope_for(site).everything and scope_for(site, ORG_B) == Scope(ORG_B)
    assert scope_for(admin, ORG_B) == Scope(ORG_A)  # an organization admin cannot pick another organization
    with pytest.raises(PermissionError):
        scope_for(UserContext("i", "i@x", "I", "instructor", ORG_A, "t"))


def usage(store: Store, at: datetime, model: str, org: str, user: str, conv: str, *, cost: str | None,
          inp: int, out: int, read: int = 0, write: int = 0) -> None:  # fmt: skip
    store.usage.add(provider="p", model=model, input_tokens=inp, output_tokens=out, cache_read_tokens=read,
                    cache_write_tokens=write, cost_usd=Decimal(cost) if cost else None, conversation_id=conv,
                    user_id=user, organization_id=org, at=at, latency_ms=100.0)  # fmt: skip


def test_usage_by_day_totals_cache_share_and_typical_conversation(store: Store) -> None:
    store.directory.remember(user_id="u1", email="maya@a.org", full_name="Maya", role="organization_admin",
                             organization_id=ORG_A, organization_name="Academy A")  # fmt: skip
    usage(store, DAY1, "sonnet", ORG_A, "u1", "c1", cost="0.01", inp=1000, out=100, read=3000)
    usage(store, DAY1, "llama", ORG_A, "u1", "c2", cost=None, inp=500, out=50)  # unpriced
    usage(store, DAY2, "sonnet", ORG_A, "u1", "c3", cost="0.02", inp=2000, out=200, write=1000)
    usage(store, DAY2, "sonnet", ORG_B, "u2", "c4", cost="0.05", inp=10, out=10)
    usage(
        store, DAY2 + timedelta(days=5), "sonnet", ORG_A, "u1", "c5", cost="9", inp=1, out=1
    )  # outside the period

    frame = usage_report.usage_by_day(store, Scope(ORG_A), PERIOD, "model")
    assert sorted(zip(frame["day"], frame["model"], frame["calls"], strict=True)) == [
        ("2026-11-20", "llama", 1), ("2026-11-20", "sonnet", 1), ("2026-11-21", "sonnet", 1)]  # fmt: skip
    totals = usage_report.overall(frame)
    assert (totals["calls"], totals["input_tokens"], totals["unpriced_calls"]) == (3, 3500, 1)
    assert totals["cost_usd"] == pytest.approx(0.03)
    assert totals["cache_share"] == pytest.approx(3000 / 7500)  # reads over input + reads + writes
    days = usage_report.cache_share_by_day(frame, PERIOD)
    assert days["cache_share"].tolist() == pytest.approx([3000 / 4500, 0.0])
    by_model = usage_report.totals_by(frame, "model")
    assert by_model["label"].tolist() == ["sonnet", "llama"]  # priced first, unpriced last
    assert by_model["cost_usd"].isna().tolist() == [False, True]

    by_user = usage_report.usage_by_day(store, Scope(ORG_A), PERIOD, "user")
    assert set(by_user["label"]) == {"Maya <maya@a.org>"}
    by_org = usage_report.usage_by_day(store, Scope(None), PERIOD, "organization")
    assert set(by_org["label"]) == {"Academy A", "org-b"}  # a name where the directory knows one

    typical = usage_report.typical_conversation(usage_report.conversation_costs(store, Scope(None), PERIOD))
    assert (typical["conversations"], typical["priced"]) == (4, 3)  # c2 had no price
    assert typical["median_usd"] == pytest.approx(0.02)
    assert typical["mean_usd"] == pytest.approx((0.01 + 0.02 + 0.05) / 3)
    assert typical["p90_usd"] == pytest.approx(0.02 + 0.8 * 0.03)

    csv = "".join(usage_report.usage_csv(store, Scope(ORG_A), PERIOD)).splitlines()
    assert csv[0].startswith("at,organization_id,user_id") and len(csv) == 4
    assert csv[0].endswith(",cost_usd,estimated")
    assert sorted(line.rsplit(",", 2)[1] for line in csv[1:]) == [
        "",
        "0.01",
        "0.02",
    ]  # unpriced: an empty cost


def test_budget_use_today(store: Store) -> None:
    now = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    usage(store, now - timedelta(hours=2), "sonnet", ORG_A, "u1", "c1", cost="4.00", inp=1, out=1)
    usage(store, now - timedelta(hours=1), "sonnet", ORG_A, "u2", "c2", cost="6.00", inp=1, out=1)
    usage(store, now - timedelta(days=1), "sonnet", ORG_A, "u1", "c3", cost="3.00", inp=1, out=1)  # yesterday
    per_user = usage_report.budget_use(store, Scope(ORG_A), 5.0, now)
    assert per_user["spent_usd"].tolist() == pytest.approx([6.0, 4.0])
    assert per_user["used"].tolist() == pytest.approx([1.2, 0.8])
    by_org = usage_report.budget_by_organization(per_user)
    assert (int(by_org["users"][0]), float(by_org["spent_usd"][0]), int(by_org["at_budget"][0])) == (
        2,
        10.0,
        1,
    )


def turn(store: Store, conv: str, org: str, at: datetime, latency: float, *, proposals: int = 0,
         tools: list[str] | None = None, score: float | None = 0.7, label: str = "q") -> None:  # fmt: skip
    t = store.turns.start(conv, user_id="u1", organization_id=org, kind="message", label=label)
    store.turns.finish(t.id, "completed", stop="end_turn", view={}, summary={
        "latency_ms": latency, "proposals": proposals, "tools": tools or [], "context_score": score})  # fmt: skip
    with store.db.write() as session:  # place it in time
        from app.store.models import Turn

        session.get(Turn, t.id).started_at = at  # type: ignore[union-attr]


def test_activity_latency_tools_and_weak_context(store: Store) -> None:
    store.db.clock = lambda: DAY1
    a = store.conversations.create("u1", ORG_A).id
    b = store.conversations.create("u2", ORG_B).id
    for latency in (100, 200, 300, 400):
        turn(store, a, ORG_A, DAY1, latency, tools=["search_docs"])
    turn(
        store,
        a,
        ORG_A,
        DAY2,
        1000,
        proposals=1,
        tools=["find_project", "create_track"],
        score=None,
        label="make it",
    )
    turn(store, a, ORG_A, DAY2, 50, score=0.2, label="weak one")
    turn(store, b, ORG_B, DAY2, 99999, tools=["search_docs"])

    per_day = activity.per_day(store, Scope(ORG_A), PERIOD)
    assert per_day.to_dict("records") == [
        {"day": "2026-11-20", "conversations": 1, "messages": 4, "questions": 4, "actions": 0},
        {"day": "2026-11-21", "conversations": 0, "messages": 2, "questions": 1, "actions": 1},
    ]
    figures = activity.turn_figures(store, Scope(ORG_A), PERIOD)
    assert figures["messages"] == 6
    assert figures["latency_p50_ms"] == pytest.approx(250.0)  # of 50, 100, 200, 300, 400, 1000
    assert figures["latency_p95_ms"] == pytest.approx(400 + 0.75 * 600)
    assert figures["top_tools"].to_dict("records")[0] == {"tool": "search_docs", "calls": 4}
    weak = activity.weak_context_questions(store, Scope(ORG_A), PERIOD, below=0.4)
    assert weak["question"].tolist() == ["weak one"]  # the proposal is not a question
    assert activity.turn_figures(store, Scope(None), PERIOD)["messages"] == 7


def action(store: Store, org: str, status: str, created: datetime, decided_after: float | None) -> str:
    conv = store.conversations.create("u1", org).id
    a = store.actions.add(conversation_id=conv, user_id="u1", organization_id=org, tool="create_track",
                          arguments={"n": status}, preview=f"p {status}", idempotency_key=f"k-{conv}", risk="write",
                          expires_at=created + timedelta(minutes=30))  # fmt: skip
    decided = created + timedelta(seconds=decided_after) if decided_after is not None else None
    with store.db.write() as session:
        from app.store.models import PendingAction

        row = session.get(PendingAction, a.id)
        assert row is not None
        row.created_at, row.status, row.decided_at = created, status, decided
    return a.id


def test_action_rates_and_time_to_decision(store: Store) -> None:
    for status, delay in (("succeeded", 10), ("succeeded", 20), ("failed", 30), ("rejected", 40), ("expired", 1800),
                          ("pending", None)):  # fmt: skip
        action(store, ORG_A, status, DAY1, delay)
    action(store, ORG_B, "rejected", DAY1, 5)
    figures = activity.action_figures(store, Scope(ORG_A), PERIOD)
    assert (figures["proposed"], figures["approved"], figures["rejected"], figures["expired"]) == (6, 3, 1, 1)
    assert figures["approval_rate"] == pytest.approx(0.6)
    assert figures["rejection_rate"] == pytest.approx(0.2) and figures["expiry_rate"] == pytest.approx(0.2)
    assert figures["failure_rate"] == pytest.approx(1 / 3)
    assert figures["decision_p50_s"] == pytest.approx(25.0)  # 10, 20, 30, 40: expiry is not a decision
    assert figures["decision_p95_s"] == pytest.approx(38.5)

    found = actions_report.actions(
        store, Scope(ORG_A), PERIOD, actions_report.ActionFilter(statuses=("rejected", "expired"))
    )
    assert sorted(a.status for a in found) == ["expired", "rejected"]
    assert len(actions_report.actions(store, Scope(None), PERIOD, actions_report.ActionFilter())) == 7
    rows = actions_report.action_rows(store, found)
    assert list(rows.columns)[:4] == ["created_at", "status", "tool", "preview"]


def test_feedback_ratio(store: Store) -> None:
    store.db.clock = lambda: DAY1
    conv = store.conversations.create("u1", ORG_A).id
    other = store.conversations.create("u2", ORG_B).id
    for seq, rating in ((2, 1), (4, 1), (6, 1), (8, -1)):
        store.feedback.add(conv, seq, "u1", rating, at=DAY1)
    store.feedback.add(other, 2, "u2", -1, at=DAY1)
    assert activity.feedback_figures(store, Scope(ORG_A), PERIOD) == {"up": 3, "down": 1, "positive": 0.75}
    assert activity.feedback_figures(store, Scope(None), PERIOD)["down"] == 2
