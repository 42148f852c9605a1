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


def _layout(fig: go.Figure, title: str, height: int = 300, **extra: object) -> go.Figure:
    layout: dict[str, object] = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "title": {"text": title, "font": {"size": 14}},
        "legend": {"orientation": "h", "y": -0.2},
        "xaxis": {"title": None},
        "yaxis": {"title": None, "rangemode": "tozero"},
    }
    layout.update(extra)
    fig.update_layout(**layout)
    return fig


def usage_over_time(frame: pd.DataFrame, days: list[str], value: str, title: str) -> go.Figure:
    """Stacked bars per day of `value` (cost_usd or a token column), one colour per label."""
    fig = go.Figure()
    if not frame.empty:
        for label, rows in frame.groupby("label", sort=True):
            per_day = rows.groupby("day")[value].sum(min_count=1)
            fig.add_bar(x=days, y=[per_day.get(d) for d in days], name=str(label))
    return _layout(fig, title, barmode="stack", xaxis={"type": "date", "title": None, "tickformat": "%b %d"})


def cache_share_over_time(shares: pd.DataFrame) -> go.Figure:
    """The share of input read from the cache, per day (gaps where nothing was sent)."""
    fig = go.Figure()
    fig.add_scatter(
        x=list(shares["day"]), y=[None if v is None else round(100 * v, 1) for v in shares["cache_share"]],
        mode="lines+markers", name="cache share", connectgaps=False,
    )  # fmt: skip
    return _layout(fig, "Input read from the cache (%)", height=260, yaxis={"range": [0, 100], "title": None})


def activity_per_day(per_day: pd.DataFrame) -> go.Figure:
    """Messages per day split into questions and actions, with conversations started as a line."""
    fig = go.Figure()
    fig.add_bar(
        x=list(per_day["day"]), y=list(per_day["questions"]), name="questions", marker_color="#4C78A8"
    )
    fig.add_bar(x=list(per_day["day"]), y=list(per_day["actions"]), name="actions", marker_color="#F58518")
    fig.add_scatter(x=list(per_day["day"]), y=list(per_day["conversations"]), name="conversations started",
                    mode="lines+markers", line={"color": "#54A24B"})  # fmt: skip
    return _layout(
        fig, "Messages and conversations per day", barmode="stack", xaxis={"type": "category", "title": None}
    )


def horizontal_bars(frame: pd.DataFrame, label: str, value: str, title: str) -> go.Figure:
    """Largest first, top to bottom."""
    ordered = frame.sort_values(value) if not frame.empty else frame
    fig = go.Figure()
    fig.add_bar(x=list(ordered[value]) if not frame.empty else [], y=list(ordered[label]) if not frame.empty else [],
                orientation="h", marker_color="#4C78A8")  # fmt: skip
    return _layout(fig, title, height=max(220, 28 * len(frame) + 80), showlegend=False)


def metrics_by_group(metrics: pd.DataFrame, columns: list[str]) -> go.Figure:
    """Grouped bars: each metric for each group (overall, then each question kind)."""
    fig = go.Figure()
    for column in columns:
        fig.add_bar(x=list(metrics["group"]), y=list(metrics[column]), name=column)
    return _layout(
        fig, "Retrieval quality by question kind", barmode="group", yaxis={"range": [0, 1], "title": None}
    )


def metrics_over_runs(history: pd.DataFrame, columns: list[str]) -> go.Figure:
    fig = go.Figure()
    for column in columns:
        fig.add_scatter(x=list(history["at"]), y=list(history[column]), mode="lines+markers", name=column)
    return _layout(fig, "Comparable runs over time", height=260, yaxis={"range": [0, 1], "title": None})
