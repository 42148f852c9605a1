"""The "This conversation" panel: tokens by kind, cost and latency per turn and in total."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.conversation.view import TurnView
from components.charts import latency_per_turn, tokens_per_turn
from components.panels import ESTIMATE_NOTE, format_cost, format_latency, turn_cost, usage_frame, usage_totals


def render_usage(turns: list[TurnView], mode_label: str) -> None:
    frame = usage_frame(turns)
    if frame.empty:
        st.info("No model calls yet. Tokens, cost and latency of every turn appear here as you chat.")
        return
    totals = usage_totals(frame)
    with st.container(horizontal=True, gap="medium"):
        st.metric(
            "Input tokens", f"{totals['input_tokens']:,}", width="content", help="Not counting cache reads"
        )
        st.metric("Output tokens", f"{totals['output_tokens']:,}", width="content")
        st.metric("Cache read", f"{totals['cache_read_tokens']:,}", width="content")
        st.metric("Cache write", f"{totals['cache_write_tokens']:,}", width="content")
        st.metric(
            "Cost",
            format_cost(totals["cost_usd"], totals["unpriced_calls"], totals["estimated_calls"]),
            width="content",
            help=mode_label,
        )
        st.metric(
            "Time",
            format_latency(totals["latency_ms"]),
            width="content",
            help="Wall time of every turn, added up",
        )
    tokens = (
        totals["input_tokens"]
        + totals["output_tokens"]
        + totals["cache_read_tokens"]
        + totals["cache_write_tokens"]
    )
    if tokens:
        st.plotly_chart(tokens_per_turn(frame), width="stretch", config={"displayModeBar": False})
    else:
        st.caption(
            "No tokens: the offline planner calls no model, so nothing is billed. With Claude or an "
            "OpenAI-compatible model each turn's tokens and cost show here."
        )
    st.plotly_chart(latency_per_turn(frame), width="stretch", config={"displayModeBar": False})
    shown = pd.DataFrame(
        {
            "#": frame["turn"],
            "in": frame["input_tokens"],
            "out": frame["output_tokens"],
            "cache r/w": [
                f"{r:,}/{w:,}"
                for r, w in zip(frame["cache_read_tokens"], frame["cache_write_tokens"], strict=True)
            ],
            "cost": [
                turn_cost(c if pd.notna(c) else None, u, n, e)
                for c, u, n, e in zip(
                    frame["cost_usd"],
                    frame["unpriced_calls"],
                    frame["calls"],
                    frame["estimated_calls"],
                    strict=True,
                )
            ],
            "time": [format_latency(ms) for ms in frame["latency_ms"]],
            "message": frame["label"],
        }
    )
    st.dataframe(shown, hide_index=True, width="stretch")
    if totals["cost_usd"] is None and totals["unpriced_calls"]:
        st.caption("The model used has no price in the table, so its cost is unknown (not $0).")
    if totals["estimated_calls"]:
        st.caption(ESTIMATE_NOTE)
