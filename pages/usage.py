"""Usage and cost: tokens and dollars over time by model, user and organization, the cache's share of
input, today's budget use, the cost of a typical conversation, and a CSV export."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.analytics import usage_report as usage
from app.permissions.policy import UserContext
from components.charts import cache_share_over_time, usage_over_time
from components.panels import ESTIMATE_NOTE, format_cost
from components.report_controls import header
from components.session import load_services

svc = load_services()
user: UserContext = st.session_state.user
scope, period = header(
    svc, user, "Usage and cost", "Every model call the assistant made, priced when it was made."
)

BY_OPTIONS = {"model": "Model", "user": "User", "organization": "Organization"}
if scope.everything is False:
    BY_OPTIONS.pop("organization")
if st.session_state.get("by", "model") not in BY_OPTIONS:  # a stale value: back to the default
    del st.session_state["by"]
by = st.segmented_control("Break down by", list(BY_OPTIONS), default="model", key="by", bind="query-params",
                          format_func=BY_OPTIONS.__getitem__, required=True)  # fmt: skip

frame = usage.usage_by_day(svc.store, scope, period, by)
totals = usage.overall(frame)
if frame.empty:
    st.info(
        "No model calls in this period yet. Start a conversation on the Chat page: every answer's tokens "
        "and cost are recorded here (the offline planner's at $0)."
    )
    st.stop()

with st.container(horizontal=True, gap="medium"):
    st.metric("Cost", format_cost(totals["cost_usd"], int(totals["unpriced_calls"] or 0), int(totals["estimated_calls"] or 0)),  # type: ignore[arg-type]
              width="content", help=ESTIMATE_NOTE if totals["estimated_calls"] else None)  # fmt: skip
    st.metric("Model calls", f"{totals['calls']:,}", width="content")
    st.metric(
        "Input tokens",
        f"{totals['input_tokens']:,}",
        width="content",
        help="Not counting cache reads and writes",
    )
    st.metric("Output tokens", f"{totals['output_tokens']:,}", width="content")
    share = totals["cache_share"]
    st.metric("Input read from cache", "—" if share is None else f"{share:.0%}", width="content",
              help="Cache reads over all input sent (input + cache reads + cache writes)")  # fmt: skip

left, right = st.columns(2, gap="large")
left.plotly_chart(usage_over_time(frame, period.days, "cost_usd", f"Cost per day by {by} ($)"), width="stretch",
                  config={"displayModeBar": False})  # fmt: skip
frame_tokens = frame.assign(tokens=frame[usage.TOKEN_COLUMNS].sum(axis=1))
right.plotly_chart(usage_over_time(frame_tokens, period.days, "tokens", f"Tokens per day by {by}"), width="stretch",
                   config={"displayModeBar": False})  # fmt: skip

st.subheader(f"By {BY_OPTIONS[by].lower()}")
table = usage.totals_by(frame, by)
st.dataframe(
    table.assign(cost=[format_cost(c if pd.notna(c) else None, u, e) for c, u, e in zip(table["cost_usd"], table["unpriced_calls"], table["estimated_calls"], strict=True)]),
    hide_index=True, width="stretch",
    column_order=["label", "cost", "calls", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cache_share"],
    column_config={
        "label": BY_OPTIONS[by], "input_tokens": "input", "output_tokens": "output",
        "cache_read_tokens": "cache read", "cache_write_tokens": "cache write",
        "cache_share": st.column_config.ProgressColumn("cache share", format="percent", min_value=0, max_value=1),
    },
)  # fmt: skip
if totals["estimated_calls"]:
    st.caption(f"{totals['estimated_calls']:,} of these calls have estimated tokens. {ESTIMATE_NOTE}")

cache_col, typical_col = st.columns(2, gap="large")
with cache_col:
    st.plotly_chart(cache_share_over_time(usage.cache_share_by_day(frame, period)), width="stretch",
                    config={"displayModeBar": False})  # fmt: skip
with typical_col:
    st.subheader("A typical conversation")
    typical = usage.typical_conversation(usage.conversation_costs(svc.store, scope, period))
    if typical["median_usd"] is None:
        st.caption("No conversation in this period used a priced model.")
    else:
        with st.container(horizontal=True):
            st.metric("Median cost", format_cost(typical["median_usd"]), width="content")  # type: ignore[arg-type]
            st.metric("90th percentile", format_cost(typical["p90_usd"]), width="content")  # type: ignore[arg-type]
            st.metric("Mean", format_cost(typical["mean_usd"]), width="content")  # type: ignore[arg-type]
        st.caption(
            f"Over {typical['priced']} priced conversations of {typical['conversations']} with model calls."
        )

st.subheader("Today's budget use")
budget = svc.settings.user_daily_budget_usd
per_user = usage.budget_use(svc.store, scope, budget, svc.store.db.clock())
if per_user.empty:
    st.caption("Nobody has spent anything today.")
else:
    st.caption(f"Each user may spend {format_cost(budget)} per UTC day (USER_DAILY_BUDGET_USD)." if budget > 0
               else "No daily budget is set (USER_DAILY_BUDGET_USD=0).")  # fmt: skip
    st.dataframe(per_user, hide_index=True, width="stretch", column_config={
        "spent_usd": st.column_config.NumberColumn("spent today", format="$%.4f"),
        "budget_usd": st.column_config.NumberColumn("budget", format="$%.2f"),
        "used": st.column_config.ProgressColumn("used", format="percent", min_value=0, max_value=1)})  # fmt: skip
    if scope.everything:
        st.dataframe(usage.budget_by_organization(per_user), hide_index=True, width="stretch", column_config={
            "spent_usd": st.column_config.NumberColumn("spent today", format="$%.4f"),
            "at_budget": st.column_config.NumberColumn("users at their budget")})  # fmt: skip

st.download_button(
    "Export the period's model calls (CSV)",
    data=lambda: "".join(usage.usage_csv(svc.store, scope, period)),  # made when clicked, not on every run
    file_name=f"usage-{period.first}-{period.last}.csv",
    mime="text/csv",
    icon=":material/download:",
    key="export-csv",
    on_click="ignore",
)
