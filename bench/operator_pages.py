"""Each operator page's data and figures over a large history, on SQLite and on PostgreSQL.

10,000 conversations (about 35,000 turns, 6,000 actions, 10,000 feedback votes) and 100,000 usage
rows over 90 days, in two organizations (bench/synthetic.py). For each page it times what the page
computes on a full render (the queries and the plotly figures, not Streamlit's drawing), over the
whole period, for all organizations and for one; and lists the slowest steps, which are the
queries that dominate. Target: under 1 s per page. Prints figures; asserts nothing.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.analytics import actions_report, activity
from app.analytics import usage_report as usage
from app.analytics.scope import Period, Scope
from app.store import Store
from bench.synthetic import orgs_of, populate
from components import charts

CONVERSATIONS = 10_000
USAGE_ROWS = 100_000


def _timed(steps: dict[str, Callable[[], Any]]) -> dict[str, float]:
    out = {}
    for name, step in steps.items():
        started = time.perf_counter()
        step()
        out[name] = (time.perf_counter() - started) * 1000
    return out


def pages(
    store: Store, scope: Scope, period: Period, now: datetime
) -> dict[str, dict[str, Callable[[], Any]]]:
    state: dict[str, Any] = {}

    def by_day() -> None:
        state["frame"] = usage.usage_by_day(store, scope, period, "model")

    def acts() -> None:
        state["found"] = actions_report.actions(store, scope, period, actions_report.ActionFilter())

    return {
        "Usage and cost": {
            "usage by day and model (GROUP BY day, model)": by_day,
            "totals, cache share per day": lambda: (usage.overall(state["frame"]), usage.totals_by(state["frame"], "model"),
                                                    usage.cache_share_by_day(state["frame"], period)),
            "charts": lambda: (charts.usage_over_time(state["frame"], period.days, "cost_usd", "c"),
                               charts.usage_over_time(state["frame"].assign(tokens=state["frame"]["input_tokens"]), period.days, "tokens", "t"),
                               charts.cache_share_over_time(usage.cache_share_by_day(state["frame"], period))),
            "typical conversation (GROUP BY conversation)": lambda: usage.typical_conversation(usage.conversation_costs(store, scope, period)),
            "budget use today (GROUP BY user, organization)": lambda: usage.budget_use(store, scope, 5.0, now),
        },
        "Usage: CSV export (on click)": {"every usage row of the period as CSV": lambda: sum(1 for _ in usage.usage_csv(store, scope, period))},
        "Analytics": {
            "conversations and messages per day": lambda: state.update(per_day=activity.per_day(store, scope, period)),
            "latency percentiles and tools (turn facts)": lambda: state.update(turns=activity.turn_figures(store, scope, period)),
            "proposal rates and time to decision": lambda: activity.action_figures(store, scope, period),
            "feedback ratio": lambda: activity.feedback_figures(store, scope, period),
            "weak-context questions": lambda: activity.weak_context_questions(store, scope, period),
            "charts": lambda: (charts.activity_per_day(state["per_day"]),
                               charts.horizontal_bars(state["turns"]["top_tools"], "tool", "calls", "t")),
        },
        "Actions and audit": {
            "actions of the period (newest 500)": acts,
            "table rows with names": lambda: actions_report.action_rows(store, state["found"]),
            "audit trail of one": lambda: store.reports.audit_of(state["found"][0].id) if state["found"] else None,
            "people and tools for the filters": lambda: (actions_report.people_in_scope(store, scope),
                                                         store.reports.action_tools(scope.organization_id)),
        },
        "Retrieval lab (replay list)": {"latest 100 chat turns": lambda: store.reports.recent_turns(scope.organization_id, 100)},
    }  # fmt: skip


def bench_backend(name: str, url: str, rounds: int = 3) -> None:
    store = Store(url)
    try:
        now = datetime.now(UTC)
        started = time.perf_counter()
        filled = populate(store, conversations=CONVERSATIONS, usage_rows=USAGE_ROWS, now=now, days=90)
        print(f"\n  {name}: filled {filled.conversations:,} conversations, {filled.turns:,} turns, {filled.actions:,} "
              f"actions, {filled.feedback:,} feedback votes, {filled.usage_rows:,} usage rows in {time.perf_counter() - started:.1f} s")  # fmt: skip
        period = Period.last_days(90, now.date())
        one_org = orgs_of(None, 20)[0].id
        for scope_name, scope in (("all organizations", Scope(None)), ("one organization", Scope(one_org))):
            print(f"  {name}, {scope_name}, 90 days:")
            for page, steps in pages(store, scope, period, now).items():
                runs = [_timed(steps) for _ in range(rounds)]
                totals = [sum(r.values()) for r in runs]
                per_step = {k: statistics.median(r[k] for r in runs) for k in steps}
                slowest = sorted(per_step.items(), key=lambda item: -item[1])[:2]
                print(f"    {page:<30} median {statistics.median(totals):7.0f} ms (max {max(totals):.0f})  slowest: "
                      + "; ".join(f"{k} {v:.0f} ms" for k, v in slowest))  # fmt: skip
    finally:
        store.close()


def bench_operator_pages() -> None:
    print(f"\n== operator pages: {CONVERSATIONS:,} conversations, {USAGE_ROWS:,} usage rows ==")
    with tempfile.TemporaryDirectory() as tmp:
        bench_backend("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}")
    try:
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.support.postgres import create_database, drop_database, find_admin_url
    except ImportError as exc:  # pragma: no cover - the tests folder is part of the checkout
        print(f"  PostgreSQL skipped: {exc}")
        return
    admin, why = find_admin_url()
    if admin is None:
        print(f"  PostgreSQL skipped: {why}")
        return
    db, url = create_database(admin)
    try:
        bench_backend("PostgreSQL", url)
    finally:
        drop_database(admin, db)


if __name__ == "__main__":
    bench_operator_pages()
