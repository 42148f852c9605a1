"""The design note's example end to end, with a scripted model behind the real SDKs.

"Create a beginner track for Python" -> the model asks which project -> "Data Science
Foundations" -> find_project, then create_track -> a preview to approve -> approved -> the track
exists on the platform -> the model confirms with a next step. Anthropic's and OpenAI's wire
formats are checked on what the fake servers received; costs are checked against hand arithmetic
from app/usage/pricing.json.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from app.conversation import decisions
from app.conversation import events as ev
from app.conversation.journal import TurnTotals
from app.conversation.turn import run_turn
from app.providers.anthropic_provider import AnthropicProvider
from app.providers.openai_provider import OpenAIProvider
from tests.fakes import anthropic_server as fa
from tests.fakes import openai_server as fo
from tests.integration.conversation.conftest import ADMIN_A
from tests.integration.conversation.helpers import (
    bare,
    collect,
    done,
    of,
    one,
    project_id,
    text_of,
    tracks_named,
)

ASK = "I'll create a Python track. Which project should this belong to?"
CONFIRM = (
    '✓ Created "Python Fundamentals" track (Beginner level) in Data Science Foundations project. '
    "Would you like to add courses to this track?"
)
PREVIEW = "Create track 'Python Fundamentals' (beginner) in project Data Science Foundations"


def anthropic_tool_result(body: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in body["messages"][-1]["content"] if b["type"] == "tool_result")


def test_design_note_example_with_claude(
    anthropic_server: fa.FakeAnthropicServer, make_services: Callable[..., Any], sign_in: Any, platform: Any
) -> None:
    admin = sign_in(ADMIN_A)
    client = platform(admin)
    dsf = project_id(client, admin, "Data Science Foundations")
    assert tracks_named(client, "Python Fundamentals", dsf) == []

    def create_track(body: dict[str, Any]) -> fa.AssistantReply:
        found = json.loads(anthropic_tool_result(body)["content"])
        args = {"project_id": found[0]["id"], "name": "Python Fundamentals", "difficulty_level": "beginner"}
        return fa.reply_tool_use("create_track", args, id="toolu_create", usage=fa.usage(400, 60, 0, 3000))

    anthropic_server.enqueue(
        fa.reply_text(ASK, usage=fa.usage(1200, 30, 3000, 0)),
        fa.reply_tool_use(
            "find_project",
            {"name": "Data Science Foundations"},
            id="toolu_find",
            usage=fa.usage(300, 20, 0, 3000),
        ),
        create_track,
        fa.reply_text(CONFIRM, usage=fa.usage(500, 40, 0, 3000)),
    )
    provider = AnthropicProvider(
        "test-key", "claude-sonnet-5-5", base_url=anthropic_server.base_url, timeout_s=10, max_retries=0
    )
    services = make_services(provider)
    deps = services.turn_deps()
    cid = services.store.conversations.create(admin.user_id, admin.organization_id).id

    first = collect(run_turn(deps, cid, admin, "Create a beginner track for Python"))
    assert text_of(first) == ASK
    assert done(first).stop == "end_turn" and not of(first, ev.ActionProposed)

    second = collect(run_turn(deps, cid, admin, "Data Science Foundations"))
    assert (
        one(second, ev.ContextRetrieved).query
        == "Create a beginner track for Python Data Science Foundations"
    )
    tool = one(second, ev.ToolUsed)
    assert (tool.tool, tool.ok) == ("find_project", True) and dsf in tool.summary
    proposed = one(second, ev.ActionProposed)
    assert proposed.preview == PREVIEW and proposed.risk == "write" and proposed.tool == "create_track"
    assert done(second).stop == "action_proposed"
    assert tracks_named(client, "Python Fundamentals", dsf) == []  # nothing happens before approval

    outcome = collect(decisions.approve(deps, admin, proposed.action_id, expected_digest=proposed.digest))
    executed = one(outcome, ev.ActionExecuted)
    assert executed.ok and executed.status == "succeeded"
    assert executed.message.startswith("Created track 'Python Fundamentals'")
    assert text_of(outcome) == CONFIRM
    assert len(of(outcome, ev.TextDelta)) > 3  # streamed in pieces
    (track,) = tracks_named(client, "Python Fundamentals", dsf)
    assert track["difficulty_level"] == "beginner" and track["id"] == executed.result["id"]

    # --- what Claude was sent -----------------------------------------------------------------
    bodies = anthropic_server.bodies
    assert len(bodies) == 4
    for body in bodies:
        assert body["model"] == "claude-sonnet-5-5" and body["stream"] is True
        (system,) = body["system"]
        assert system == bodies[0]["system"][0]  # one static text: the cached prefix never changes
        assert system["cache_control"] == {"type": "ephemeral"}  # covers the tools before it too
        assert "Maya Patel" not in system["text"] and "Data Science Foundations" not in system["text"]
        # who is asking and the organization's projects travel in the turn's first user message
        facts = body["messages"][0]["content"][0]["text"]
        assert facts.startswith(
            "<turn_context>\nCurrent user: Maya Patel (maya.patel@northwind-academy.example), "
            "role organization admin"
        )
        projects = next(line for line in facts.splitlines() if "Projects in Northwind Academy:" in line)
        assert "Data Science Foundations" in projects and "Web Development Bootcamp" in projects
        names = [t["name"] for t in body["tools"]]
        assert {"find_project", "create_track", "delete_project", "search_docs"} <= set(names)
        assert all("cache_control" not in t for t in body["tools"])
        # the end of the conversation is a breakpoint (incremental caching)
        assert body["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    # each request starts with the previous one, as it was sent (so only its end is new)
    for before, after in itertools.pairwise(bodies):
        sent, now = bare(before["messages"]), bare(after["messages"])
        assert now[: len(sent) - 1] == sent[:-1]
        assert now[len(sent) - 1]["content"][: len(sent[-1]["content"])] == sent[-1]["content"]
        create = next(t for t in body["tools"] if t["name"] == "create_track")
        assert create["input_schema"]["required"] == ["project_id", "name"]
    # turn 2 carries turn 1 as history
    assert [m["role"] for m in bodies[1]["messages"]] == ["user", "assistant", "user"]
    assert bodies[1]["messages"][1]["content"] == [{"type": "text", "text": ASK}]
    found = anthropic_tool_result(bodies[2])
    assert found["tool_use_id"] == "toolu_find" and dsf in found["content"] and "is_error" not in found
    # the decision is the result of the call that proposed it, and the request ends with it
    (decision,) = bodies[3]["messages"][-1]["content"]
    assert decision["type"] == "tool_result" and decision["tool_use_id"] == "toolu_create"
    payload = json.loads(decision["content"])
    assert set(payload) == {
        "action_id", "decision", "preview", "message", "result", "reason", "arguments", "retryable"
    }  # fmt: skip
    assert (payload["action_id"], payload["decision"], payload["preview"]) == (
        proposed.action_id,
        "executed",
        PREVIEW,
    )
    assert payload["message"] == executed.message and payload["result"]["id"] == track["id"]

    # --- usage and cost (claude-sonnet-5-5: $2 in, $10 out, $2.50 cache write, $0.10 cache read) ---
    usage = of(first, ev.UsageReported) + of(second, ev.UsageReported) + of(outcome, ev.UsageReported)
    assert [(u.input_tokens, u.output_tokens, u.cache_write_tokens, u.cache_read_tokens) for u in usage] == [
        (1200, 30, 3000, 0),
        (300, 20, 0, 3000),
        (400, 60, 0, 3000),
        (500, 40, 0, 3000),
    ]
    expected = [
        (1200 * 2 + 30 * 10 + 3000 * 2.5) / 1e6,  # 0.0102
        (300 * 2 + 20 * 10 + 3000 * 0.1) / 1e6,  # 0.0011
        (400 * 2 + 60 * 10 + 3000 * 0.1) / 1e6,  # 0.0017
        (500 * 2 + 40 * 10 + 3000 * 0.1) / 1e6,  # 0.0017
    ]
    assert [u.cost_usd for u in usage] == pytest.approx(expected)
    assert all(u.provider == "anthropic" and u.model == "claude-sonnet-5-5" for u in usage)
    total = services.ledger.conversation_total(cid)
    assert total["calls"] == 4 and total["cache_write_tokens"] == 3000 and total["cache_read_tokens"] == 9000
    assert total["cost_usd"] == pytest.approx(sum(expected))
    provider.close()


def test_design_note_example_with_an_openai_compatible_server(
    openai_server: fo.FakeOpenAIServer, make_services: Callable[..., Any], sign_in: Any, platform: Any
) -> None:
    admin = sign_in(ADMIN_A)
    client = platform(admin)
    dsf = project_id(client, admin, "Data Science Foundations")

    def create_track(body: dict[str, Any]) -> fo.ChatReply:
        tool_message = body["messages"][-1]
        assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_find"
        args = {"project_id": json.loads(tool_message["content"])[0]["id"], "name": "Python with OpenAI"}
        return fo.reply_tool_use("create_track", args, id="call_create", usage=fo.usage(1000, 20, 800))

    openai_server.enqueue(
        fo.reply_text(ASK, usage=fo.usage(900, 30, 0)),
        fo.reply_tool_use("find_project", {"name": "Data Science Foundations"}, id="call_find"),
        create_track,
        fo.reply_text("Created Python with OpenAI. Would you like to add courses to this track?"),
    )
    provider = OpenAIProvider(
        "test-key", "gpt-5.4", base_url=openai_server.base_url, timeout_s=10, max_retries=0
    )
    services = make_services(provider)
    deps = services.turn_deps()
    cid = services.store.conversations.create(admin.user_id, admin.organization_id).id

    first = collect(run_turn(deps, cid, admin, "Create a beginner track for Python"))
    assert text_of(first) == ASK
    second = collect(run_turn(deps, cid, admin, "Data Science Foundations"))
    proposed = one(second, ev.ActionProposed)
    assert (
        proposed.preview == "Create track 'Python with OpenAI' (beginner) in project Data Science Foundations"
    )
    outcome = collect(decisions.approve(deps, admin, proposed.action_id, expected_digest=proposed.digest))
    assert one(outcome, ev.ActionExecuted).ok
    assert "Would you like to add courses" in text_of(outcome)
    assert len(tracks_named(client, "Python with OpenAI", dsf)) == 1

    bodies = openai_server.bodies
    assert bodies[0]["messages"][0]["role"] == "system"
    assert "Maya Patel" not in bodies[0]["messages"][0]["content"]
    assert "Current user: Maya Patel" in bodies[0]["messages"][1]["content"]
    assert bodies[0]["stream_options"] == {"include_usage": True}
    functions = {t["function"]["name"]: t for t in bodies[0]["tools"]}
    assert functions["create_track"]["type"] == "function"
    assert functions["create_track"]["function"]["parameters"]["required"] == ["project_id", "name"]
    # the decision is the result of the assistant's tool call, right after it
    last = bodies[3]["messages"]
    calls = [i for i, m in enumerate(last) if m.get("tool_calls")]
    assert [last[i]["tool_calls"][0]["id"] for i in calls] == ["call_find", "call_create"]
    call_index = calls[-1]
    assert last[-1] == last[call_index + 1]
    assert last[-1]["role"] == "tool" and last[-1]["tool_call_id"] == "call_create"
    assert json.loads(last[-1]["content"])["decision"] == "executed"
    # gpt-5.4: $2.50 in, $15 out, $0.25 cached; OpenAI counts cached tokens inside prompt_tokens
    usage = of(second, ev.UsageReported)[1]
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens) == (200, 800, 20)
    assert usage.cost_usd == pytest.approx((200 * 2.5 + 800 * 0.25 + 20 * 15) / 1e6)
    assert of(first, ev.UsageReported)[0].cost_usd == pytest.approx((900 * 2.5 + 30 * 15) / 1e6)
    provider.close()


def test_a_server_that_reports_no_usage_is_estimated_and_marked_not_free(
    openai_server: fo.FakeOpenAIServer, make_services: Callable[..., Any], sign_in: Any
) -> None:
    """Like Ollama: no usage chunk even when asked. Zero tokens would make a priced model free."""
    admin = sign_in(ADMIN_A)
    answer = "Instructors can be assigned to tracks and teach the courses in them." * 3
    openai_server.enqueue(replace(fo.reply_text(answer), sends_usage=False))
    provider = OpenAIProvider(
        "test-key", "gpt-5.5", base_url=openai_server.base_url, timeout_s=10, max_retries=0
    )
    services = make_services(provider)
    cid = services.store.conversations.create(admin.user_id, admin.organization_id).id
    events = collect(run_turn(services.turn_deps(), cid, admin, "What can an instructor do?"))
    reported = one(events, ev.UsageReported)
    assert reported.estimated and reported.output_tokens == -(-len(answer) // 4)
    assert reported.input_tokens > 1000  # the system prompt and tool definitions were sent
    assert reported.cost_usd is not None and reported.cost_usd > 0  # gpt-5.5 is priced: not $0
    (record,) = services.store.usage.list(conversation_id=cid)
    assert record.estimated and record.input_tokens == reported.input_tokens
    turn = TurnTotals()
    turn.add(reported)
    assert turn.as_dict(0.0)["estimated_calls"] == 1  # what the turn's Done carries
    (totals,) = services.ledger.summary(None)
    assert totals["estimated_calls"] == 1 and totals["cost_usd"] > 0
