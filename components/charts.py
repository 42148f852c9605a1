"""Charts as pure functions: a DataFrame in, a plotly Figure out (tested without Streamlit)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

#: Token kinds in stacking order, with the label and colour each is drawn in.
TOKEN_KINDS = (
    ("input_tokens", "input", "#4C78A8"),
    ("cache_read_tokens", "cache read", "#72B7B2"),
    ("cache_write_tokens", "cache write", "#F58518"),
    ("output_tokens", "output", "#E45756"),
)


def tokens_per_turn(frame: pd.DataFrame) -> go.Figure:
    """Stacked bars of each turn's tokens by kind (from `panels.usage_frame`)."""
    fig = go.Figure()
    turns = [f"#{n}" for n in frame["turn"]] if not frame.empty else []
    for column, label, colour in TOKEN_KINDS:
        values = frame[column].tolist() if not frame.empty else []
        fig.add_bar(
            x=turns,
            y=values,
            name=label,
            marker_color=colour,
            customdata=frame["label"].tolist() if not frame.empty else [],
            hovertemplate=f"%{{customdata}}<br>{label}: %{{y:,}} tokens<extra></extra>",
        )
    fig.update_layout(
        barmode="stack",
        height=240,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title={"text": "Tokens per turn", "font": {"size": 14}},
        legend={"orientation": "h", "y": -0.25},
        xaxis={"type": "category", "title": None},
        yaxis={"title": None},
    )
    return fig


def latency_per_turn(frame: pd.DataFrame) -> go.Figure:
    """Bars of each turn's wall time in seconds (from `panels.usage_frame`)."""
    fig = go.Figure()
    if not frame.empty:
        fig.add_bar(
            x=[f"#{n}" for n in frame["turn"]],
            y=(frame["latency_ms"] / 1000).round(2).tolist(),
            marker_color="#4C78A8",
            customdata=frame["label"].tolist(),
            hovertemplate="%{customdata}<br>%{y:.2f} s<extra></extra>",
        )
    fig.update_layout(
        height=220,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title={"text": "Time per turn (s)", "font": {"size": 14}},
        xaxis={"type": "category", "title": None},
        yaxis={"title": None, "rangemode": "tozero"},
        showlegend=False,
    )
    return fig
