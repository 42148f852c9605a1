"""Analytics: how the assistant is used, how its proposals fare, how fast it answers, what users think,
and the questions it answered from weak context (worth a look: the docs may lack the answer)."""

from __future__ import annotations

import streamlit as st

from app.analytics import activity
from app.permissions.policy import UserContext
from components.charts import activity_per_day, horizontal_bars
from components.panels import format_latency
from components.report_controls import header
from components.session import load_services

svc = load_services()
user: UserContext = st.session_state.user
scope, period = header(
    svc, user, "Analytics", "Conversations, messages, tools, decisions, latency and feedback."
)

per_day = activity.per_day(svc.store, scope, period)
turns = activity.turn_figures(svc.store, scope, period)
actions = activity.action_figures(svc.store, scope, period)
feedback = activity.feedback_figures(svc.store, scope, period)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


if not turns["messages"] and not actions["proposed"]:
    st.info(
        "No conversations in this period yet. Ask the assistant something on the Chat page and it shows up here."
    )
    st.stop()

with st.container(horizontal=True, gap="medium"):
    st.metric("Conversations", f"{int(per_day['conversations'].sum()):,}", width="content")
    st.metric("Messages", f"{turns['messages']:,}", width="content")
    st.metric("Questions / actions", f"{int(per_day['questions'].sum())} / {int(per_day['actions'].sum())}", width="content",
              help="An action is a message after which the assistant proposed a change")  # fmt: skip
    st.metric(
        "Latency p50",
        "—" if turns["latency_p50_ms"] is None else format_latency(turns["latency_p50_ms"]),
        width="content",
    )
    st.metric(
        "Latency p95",
        "—" if turns["latency_p95_ms"] is None else format_latency(turns["latency_p95_ms"]),
        width="content",
    )
    st.metric("Positive feedback", pct(feedback["positive"]), width="content",
              help=f"{feedback['up']} up, {feedback['down']} down")  # fmt: skip

st.plotly_chart(activity_per_day(per_day), width="stretch", config={"displayModeBar": False})

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Proposals")
    with st.container(horizontal=True, gap="medium"):
        st.metric("Proposed", actions["proposed"], width="content")
        st.metric(
            "Approved", pct(actions["approval_rate"]), width="content", help=f"{actions['approved']} approved"
        )
        st.metric(
            "Rejected",
            pct(actions["rejection_rate"]),
            width="content",
            help=f"{actions['rejected']} rejected",
        )
        st.metric(
            "Expired", pct(actions["expiry_rate"]), width="content", help=f"{actions['expired']} expired"
        )
        st.metric("Failed", pct(actions["failure_rate"]), width="content",
                  help=f"{actions['failed']} of the approved ones failed to execute")  # fmt: skip
    with st.container(horizontal=True, gap="medium"):
        st.metric("Time to decision p50", duration(actions["decision_p50_s"]), width="content")
        st.metric("p95", duration(actions["decision_p95_s"]), width="content")
        st.metric("Waiting now", actions["pending"], width="content")
with right:
    tools = turns["top_tools"]
    if tools.empty:
        st.caption("No tool was called in this period.")
    else:
        st.plotly_chart(horizontal_bars(tools, "tool", "calls", "Top tools"), width="stretch",
                        config={"displayModeBar": False})  # fmt: skip

st.subheader("Answered from weak context")
below = st.slider("Best passage similarity below", 0.1, 0.8, activity.WEAK_CONTEXT_BELOW, 0.05, key="weak_below",
                  help="Dense (MiniLM) cosine of the best retrieved passage: unrelated text scores about 0-0.25")  # fmt: skip
weak = activity.weak_context_questions(svc.store, scope, period, below)
if weak.empty:
    st.caption("Every question in this period found a passage above that similarity.")
else:
    st.caption(f"{len(weak)} questions, weakest first (a blank similarity: nothing was retrieved). "
               "The docs may not cover them: worth a look.")  # fmt: skip
    st.dataframe(weak, hide_index=True, width="stretch", column_config={
        "best_similarity": st.column_config.NumberColumn("best similarity", format="%.2f"),
        "at": st.column_config.DatetimeColumn("asked", format="YYYY-MM-DD HH:mm")})  # fmt: skip
