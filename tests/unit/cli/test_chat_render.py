"""How the terminal chat renders each event (in-process; the subprocess tests cover the flow)."""

from __future__ import annotations

from typing import Any

import pytest

from app.__main__ import ChatSession, Waiting
from app.conversation import events as ev


def session() -> ChatSession:
    chat = ChatSession.__new__(ChatSession)  # rendering needs no services
    chat.proposals = []
    chat.streaming = False
    return chat


def rendered(capsys: pytest.CaptureFixture[str], *events: ev.Event) -> str:
    chat = session()
    for event in events:
        chat.render(event)
    chat.end_stream()
    return capsys.readouterr().out


def chunk(cite: str | None, path: str, start: int, end: int) -> dict[str, Any]:
    return {"cite": cite, "path": path, "start_line": start, "end_line": end}


def test_sources_are_shown_with_their_citation_ids(capsys: pytest.CaptureFixture[str]) -> None:
    out = rendered(
        capsys,
        ev.ContextRetrieved(
            "c",
            query="q",
            chunks=[chunk("S1", "docs/API.md", 3, 40), chunk(None, "x.py", 1, 2), chunk("S2", "a.py", 5, 9)],
        ),
    )
    assert out.splitlines() == ["  [S1] docs/API.md:3-40", "  [S2] a.py:5-9"]
    assert rendered(capsys, ev.ContextRetrieved("c")) == "  (no sources retrieved)\n"


def test_streamed_text_is_one_line_and_ends_before_the_next_event(capsys: pytest.CaptureFixture[str]) -> None:
    out = rendered(
        capsys,
        ev.TextDelta("c", text="Hello "),
        ev.TextDelta("c", text="there."),
        ev.UsageReported("c", provider="scripted", model="m", input_tokens=5, output_tokens=2, cost_usd=None),
        ev.UsageReported("c", provider="anthropic", model="claude", cache_write_tokens=7, cost_usd=0.0123),
    )
    lines = out.splitlines()
    assert lines[0] == "assistant> Hello there."
    assert lines[1].startswith("  usage: scripted/m in 5 out 2 cache write 0 cache read 0")
    assert lines[1].endswith("cost unknown")
    assert "cache write 7" in lines[2]
    assert lines[2].endswith("cost $0.012300")


def test_tools_errors_and_outcomes(capsys: pytest.CaptureFixture[str]) -> None:
    out = rendered(
        capsys,
        ev.ToolUsed(
            "c", tool="find_project", arguments={"name": "X"}, ok=False, summary="No project matches"
        ),
        ev.ErrorEvent("c", message="Slow down.", code="rate_limited"),
        ev.ActionExecuted(
            "c", ok=False, status="failed", message="The platform did not complete it.", retryable=True
        ),
        ev.ActionExecuted("c", ok=False, status="rejected", message="Rejected: no"),
        ev.ActionExecuted("c", ok=True, status="succeeded", message="Created track 'T'."),
    )
    assert out.splitlines() == [
        "  tool find_project(name='X') failed: No project matches",
        "  error (rate_limited): Slow down.",
        "  FAILED: The platform did not complete it. Use /pending to retry it.",
        "  REJECTED: Rejected: no",
        "  EXECUTED: Created track 'T'.",
    ]


def test_a_proposal_is_shown_and_queued_for_a_decision(capsys: pytest.CaptureFixture[str]) -> None:
    chat = session()
    chat.render(
        ev.ActionProposed(
            "c", action_id="abcdef123456", tool="delete_project", arguments={"project_id": "p"},
            preview="Delete project 'P'", risk="destructive", digest="d1", confirm_name="P",
            expires_at="2026-11-25T06:00:00+00:00",
        )
    )  # fmt: skip
    assert "PROPOSED [destructive] Delete project 'P'  (action abcdef12, expires 2026-11-25T06:00)" in (
        capsys.readouterr().out
    )
    assert chat.proposals == [
        Waiting("abcdef123456", "Delete project 'P'", "destructive", "d1", "P", {"project_id": "p"})
    ]
