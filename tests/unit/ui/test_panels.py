"""The panels' data, checked against values worked out by hand (no Streamlit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from app.conversation.view import ActionView, TurnView
from components.charts import latency_per_turn, tokens_per_turn
from components.panels import (
    change_lines,
    change_rows,
    chunk_title,
    context_rows,
    expires_in,
    format_cost,
    numbered,
    ranker_evidence,
    turn_cost,
    turn_usage_line,
    usage_frame,
    usage_totals,
    with_citation_badges,
)


def turn(
    number: int, usage: dict[str, Any] | None, label: str = "q", text: str = "", chunks: Any = ()
) -> TurnView:
    return TurnView(id=f"t{number}", conversation_id="c", number=number, kind="message", label=label,
                    status="completed", usage=usage, text=text, chunks=list(chunks))  # fmt: skip


def usage(**values: Any) -> dict[str, Any]:
    base = {"calls": 1, "input_tokens": 0, "output_tokens": 0, "cache_write_tokens": 0, "cache_read_tokens": 0,
            "cost_usd": 0.0, "unpriced_calls": 0, "latency_ms": 0.0}  # fmt: skip
    return {**base, **values}


def test_numbered_lines_start_at_the_chunks_first_line() -> None:
    assert numbered("def f():\n    return 1", 41) == "41 │ def f():\n42 │     return 1"
    assert numbered("a\n" * 3, 98).splitlines() == [" 98 │ a", " 99 │ a", "100 │ a"]  # aligned
    assert numbered("", 7) == "7 │ "


def test_ranker_evidence_gives_each_rankers_score_and_rank_and_the_fusion() -> None:
    chunk = {"scores": {"bm25": 12.5, "bm25_rank": 2, "file_card": 0.41, "dense_files_rank": 7, "rrf": 0.031}}
    rows = ranker_evidence(chunk, 3)
    assert rows == [
        {"ranker": "BM25", "score": 12.5, "rank": 2},
        {"ranker": "Dense (chunk card)", "score": None, "rank": None},  # that ranker did not find it
        {"ranker": "Dense (file card)", "score": 0.41, "rank": 7},
        {"ranker": "Fused (RRF)", "score": 0.031, "rank": 3},
    ]


def test_context_rows_and_titles() -> None:
    chunk = {"cite": "S1", "path": "api/tracks.py", "start_line": 5, "end_line": 9, "symbol": "enroll",
             "metadata": {"route": "POST /tracks/{id}/enroll"}, "scores": {"bm25": 3.0, "rrf": 0.02}}  # fmt: skip
    (row,) = context_rows([chunk])
    assert (row["rank"], row["cite"], row["lines"], row["route"], row["bm25"], row["fused"], row["dense"]) == (
        1, "S1", "5-9", "POST /tracks/{id}/enroll", 3.0, 0.02, None,
    )  # fmt: skip
    assert chunk_title(chunk) == "[S1] `api/tracks.py:5-9` — enroll `POST /tracks/{id}/enroll`"


def test_citation_markers_become_badges_only_for_known_passages() -> None:
    assert with_citation_badges("See [S1] and [S3].", ["S1", "S2"]) == "See :blue-badge[S1] and [S3]."


def test_a_turns_citations_are_the_cited_chunks_in_citation_order() -> None:
    chunks = [{"cite": "S1", "path": "a"}, {"cite": "S2", "path": "b"}, {"cite": None, "path": "c"}]
    assert [c["path"] for c in turn(1, None, text="[S2] then [S1] and [S2]", chunks=chunks).citations] == [
        "b",
        "a",
    ]
    assert turn(1, None, text="no markers", chunks=chunks).citations == []


def test_changes_show_before_and_after_in_words() -> None:
    changes: list[dict[str, Any]] = [
        {"target": "new track", "field": "name", "before": None, "after": "Python"},
        {"target": "track 'Go'", "field": "status", "before": "draft", "after": "published"},
        {"target": "course 'Rust'", "field": "exists", "before": "published", "after": None},
        {"target": "new course", "field": "tags", "before": None, "after": ["a", "b"]},
        {"target": "new course", "field": "published", "before": None, "after": False},
    ]
    assert [(r["before"], r["after"]) for r in change_rows(changes)] == [
        ("—", "Python"), ("draft", "published"), ("published", "(deleted)"), ("—", "a, b"), ("—", "no"),
    ]  # fmt: skip
    assert change_lines(changes) == [
        ("new track", ["name: **Python**"]),
        ("track 'Go'", ["status: draft → **published**"]),
        ("course 'Rust'", ["exists: ~~published~~ → **deleted**"]),
        ("new course", ["tags: **a, b**", "published: **no**"]),
    ]


def test_expiry_in_words() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    action = ActionView(id="a", conversation_id="c", tool="t", preview="p", arguments={}, risk="write", digest="d",
                        confirm_name=None, status="pending", expires_at=now + timedelta(minutes=29, seconds=50),
                        created_at=now, decided_at=None, reason=None, error=None, result=None, changes=[],
                        attempts=0)  # fmt: skip
    assert expires_in(action, now) == "expires in 29 min"
    assert expires_in(action, now + timedelta(minutes=29)) == "expires in 50 s"
    assert expires_in(action, now + timedelta(hours=1)) == "expired"


@pytest.mark.parametrize(
    ("cost", "unpriced", "shown"),
    [(None, 0, "unpriced"), (0.0, 0, "$0.00"), (0.00234, 0, "$0.0023"), (1.5, 0, "$1.50"),
     (12345.678, 0, "$12,345.68"), (0.5, 2, "$0.50 + 2 unpriced calls"), (0.5, 1, "$0.50 + 1 unpriced call")],
)  # fmt: skip
def test_costs_are_never_a_false_zero(cost: float | None, unpriced: int, shown: str) -> None:
    assert format_cost(cost, unpriced) == shown


def test_a_turn_with_no_finished_model_call_has_unknown_usage() -> None:
    assert turn_cost(None, 0, 0) == "—"
    assert (
        turn_usage_line(usage(calls=0, latency_ms=7700.0)) == "no model call completed, usage unknown · 7.7 s"
    )
    line = turn_usage_line(
        usage(input_tokens=1200, output_tokens=30, cache_read_tokens=400, cost_usd=0.0036, latency_ms=850)
    )
    assert line == "1,200 in · 30 out · cache 400 read / 0 written · $0.0036 · 850 ms"


def test_usage_frame_and_totals_add_up_by_hand() -> None:
    turns = [
        turn(
            1,
            usage(
                input_tokens=1000, output_tokens=50, cache_read_tokens=400, cost_usd=0.0031, latency_ms=1200
            ),
        ),
        turn(2, None),  # still running: no row
        turn(
            3,
            usage(
                calls=2,
                input_tokens=300,
                output_tokens=20,
                cache_write_tokens=900,
                cost_usd=None,
                unpriced_calls=2,
                latency_ms=800,
            ),
        ),
        turn(4, usage(input_tokens=10, output_tokens=5, cost_usd=0.0009, latency_ms=100.5)),
    ]
    frame = usage_frame(turns)
    assert list(frame["turn"]) == [1, 3, 4]
    totals = usage_totals(frame)
    assert totals["input_tokens"] == 1310 and totals["output_tokens"] == 75
    assert (totals["cache_read_tokens"], totals["cache_write_tokens"]) == (400, 900)
    assert totals["cost_usd"] == pytest.approx(0.0040)  # priced turns only ...
    assert totals["unpriced_calls"] == 2  # ... and the unpriced ones counted beside it
    assert totals["latency_ms"] == pytest.approx(2100.5)
    assert usage_totals(usage_frame([turn(1, usage(cost_usd=None, unpriced_calls=1))]))["cost_usd"] is None
    assert usage_totals(usage_frame([]))["turns"] == 0


def test_charts_are_figures_of_the_frame() -> None:
    frame = usage_frame([
        turn(1, usage(input_tokens=1000, output_tokens=50, cache_read_tokens=400, latency_ms=1500)),
        turn(2, usage(input_tokens=200, output_tokens=10, cache_write_tokens=30, latency_ms=250)),
    ])  # fmt: skip
    fig = tokens_per_turn(frame)
    by_name = {trace.name: list(trace.y) for trace in fig.data}
    assert by_name == {
        "input": [1000, 200],
        "cache read": [400, 0],
        "cache write": [0, 30],
        "output": [50, 10],
    }
    assert fig.layout.barmode == "stack" and list(fig.data[0].x) == ["#1", "#2"]
    assert list(latency_per_turn(frame).data[0].y) == [1.5, 0.25]
    empty = tokens_per_turn(pd.DataFrame(usage_frame([])))
    assert all(len(trace.y) == 0 for trace in empty.data)


def test_estimated_usage_is_shown_as_an_estimate() -> None:
    """A server that reported no usage: tokens and cost carry "≈" and say why."""
    line = turn_usage_line(
        usage(input_tokens=2100, output_tokens=52, cost_usd=0.0062, estimated_calls=1, latency_ms=900)
    )
    assert line == "≈ 2,100 in · ≈ 52 out · ≈ $0.0062 · 900 ms · estimated: the server reported no usage"
    assert format_cost(0.5, 1, 2) == "≈ $0.50 + 1 unpriced call"
    assert format_cost(None, 1, 1) == "unpriced"
    assert turn_cost(0.01, 0, 1, 1) == "≈ $0.01"
    frame = usage_frame([turn(1, usage(estimated_calls=1, calls=2)), turn(2, usage())])
    assert usage_totals(frame)["estimated_calls"] == 1
