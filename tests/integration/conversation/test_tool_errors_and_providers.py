"""Tool failures are results the model sees and corrects itself from; provider failures are error
events that lose nothing, and the next turn works."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.conversation import events as ev
from app.conversation.history import NOT_RUN
from app.conversation.turn import run_turn
from app.providers.anthropic_provider import AnthropicProvider
from app.providers.base import ModelRequest, ProviderError, ToolResultBlock
from app.providers.scripted import ScriptedProvider, ScriptedReply, tool_reply
from app.tools.catalog import default_registry
from tests.fakes import anthropic_server as fa
from tests.integration.conversation.conftest import ADMIN_A
from tests.integration.conversation.helpers import (
    bare,
    collect,
    done,
    is_turn_context,
    last_tool_results,
    new_conversation,
    of,
    one,
    project_id,
    text_of,
)


def test_a_malformed_tool_input_comes_back_as_an_error_and_the_model_corrects_itself(
    make_services: Callable[..., Any], sign_in: Any, platform: Any
) -> None:
    admin = sign_in(ADMIN_A)
    dsf = project_id(platform(admin), admin, "Data Science Foundations")

    def corrected(request: ModelRequest) -> ScriptedReply:
        (result,) = last_tool_results(request)
        assert result.tool_use_id == "call_bad" and result.is_error
        assert "difficulty_level: Input should be 'beginner', 'intermediate' or 'advanced'" in result.content
        return tool_reply(
            "create_track", {"project_id": dsf, "name": "Expert Python", "difficulty_level": "advanced"}
        )

    provider = ScriptedProvider().enqueue(
        tool_reply(
            "create_track",
            {"project_id": dsf, "name": "Expert Python", "difficulty_level": "expert"},
            id="call_bad",
        ),
        corrected,
    )
    services = make_services(provider)
    cid = new_conversation(services, admin)

    events = collect(run_turn(services.turn_deps(), cid, admin, "Create an expert-level Python track in DSF"))

    bad = one(events, ev.ToolUsed)
    assert bad.tool == "create_track" and not bad.ok and "Invalid arguments for create_track" in bad.summary
    proposed = one(events, ev.ActionProposed)
    assert proposed.preview == "Create track 'Expert Python' (advanced) in project Data Science Foundations"
    assert len(provider.requests) == 2 and provider.remaining == 0
    (action,) = services.store.actions.list()
    assert action.arguments["difficulty_level"] == "advanced"


def test_broken_json_from_claude_is_reported_back_and_corrected(
    anthropic_server: fa.FakeAnthropicServer, make_services: Callable[..., Any], sign_in: Any
) -> None:
    admin = sign_in(ADMIN_A)
    anthropic_server.enqueue(
        fa.reply_tool_use("find_project", '{"name": "Data Sci', id="toolu_broken"),
        fa.reply_tool_use("find_project", {"name": "Data Science"}, id="toolu_fixed"),
        fa.reply_text("Data Science Foundations is the project."),
    )
    provider = AnthropicProvider("k", "claude-sonnet-5-5", base_url=anthropic_server.base_url, max_retries=0)
    services = make_services(provider)
    cid = new_conversation(services, admin)

    events = collect(run_turn(services.turn_deps(), cid, admin, "Which project is about data science?"))

    broken, fixed = of(events, ev.ToolUsed)
    assert not broken.ok and "not valid JSON" in broken.summary
    assert fixed.ok and "Data Science Foundations" in fixed.summary
    result = next(
        b for b in anthropic_server.bodies[1]["messages"][-1]["content"] if b["type"] == "tool_result"
    )
    assert result["tool_use_id"] == "toolu_broken" and result["is_error"] is True
    assert "were not valid JSON" in result["content"] and "Send a JSON object" in result["content"]
    assert text_of(events) == "Data Science Foundations is the project."
    provider.close()


def test_an_unknown_tool_gets_the_list_of_available_tools(
    make_services: Callable[..., Any], sign_in: Any
) -> None:
    admin = sign_in(ADMIN_A)
    provider = ScriptedProvider().enqueue(
        tool_reply("make_coffee", {"size": "large"}, id="call_coffee"), "I cannot make coffee."
    )
    services = make_services(provider)
    cid = new_conversation(services, admin)

    events = collect(run_turn(services.turn_deps(), cid, admin, "Make me a coffee"))

    unknown = one(events, ev.ToolUsed)
    assert unknown.tool == "make_coffee" and not unknown.ok
    (result,) = last_tool_results(provider.requests[1])
    assert result.is_error and result.content.startswith(
        "There is no tool named 'make_coffee'. Available tools: "
    )
    for tool in default_registry():
        assert tool.name in result.content
    assert done(events).stop == "end_turn" and text_of(events) == "I cannot make coffee."


def test_a_provider_timeout_is_an_error_event_and_the_next_turn_works(
    anthropic_server: fa.FakeAnthropicServer, make_services: Callable[..., Any], sign_in: Any
) -> None:
    admin = sign_in(ADMIN_A)
    anthropic_server.enqueue(fa.delay(3.0), fa.reply_text("Here is the answer now."))
    provider = AnthropicProvider(
        "k", "claude-sonnet-5-5", base_url=anthropic_server.base_url, timeout_s=0.4, max_retries=0
    )
    services = make_services(provider)
    cid = new_conversation(services, admin)
    deps = services.turn_deps()

    failed = collect(run_turn(deps, cid, admin, "What is a track?"))

    error = one(failed, ev.ErrorEvent)
    assert error.code == "provider" and error.retryable
    assert error.message.startswith("The assistant could not answer: Claude did not answer within 0.4 s")
    assert done(failed).stop == "error"
    (stored,) = services.store.conversations.list_messages(cid)
    assert (stored.role, stored.content) == ("user", [{"type": "text", "text": "What is a track?"}])

    retried = collect(run_turn(deps, cid, admin, "Please answer: what is a track?"))
    assert text_of(retried) == "Here is the answer now." and done(retried).stop == "end_turn"
    # both questions reach the model, merged into one user message as the API requires, each
    # after the facts of its own turn
    (message,) = bare(anthropic_server.bodies[-1]["messages"])
    assert message["role"] == "user"
    first_facts, first, second_facts, second = message["content"]
    assert is_turn_context(first_facts) and is_turn_context(second_facts)
    assert [first, second] == [
        {"type": "text", "text": "What is a track?"},
        {"type": "text", "text": "Please answer: what is a track?"},
    ]
    provider.close()


def test_a_provider_error_and_a_provider_bug_lose_nothing(
    make_services: Callable[..., Any], sign_in: Any
) -> None:
    admin = sign_in(ADMIN_A)
    provider = ScriptedProvider().enqueue(ProviderError("bad key", retryable=False, status=401))
    services = make_services(provider)
    cid = new_conversation(services, admin)
    deps = services.turn_deps()

    refused = collect(run_turn(deps, cid, admin, "first"))
    assert one(refused, ev.ErrorEvent).code == "provider" and not one(refused, ev.ErrorEvent).retryable

    crashed = collect(run_turn(deps, cid, admin, "second"))  # the script is empty: the provider raises
    error = one(crashed, ev.ErrorEvent)
    assert (error.code, error.message) == ("internal", "The assistant failed unexpectedly (ScriptExhausted).")

    provider.enqueue("Third time lucky.")
    assert text_of(collect(run_turn(deps, cid, admin, "third"))) == "Third time lucky."
    texts = [b["text"] for m in services.store.conversations.list_messages(cid) for b in m.content]
    assert texts == ["first", "second", "third", "Third time lucky."]


def test_a_turn_is_bounded_in_steps(make_services: Callable[..., Any], sign_in: Any) -> None:
    admin = sign_in(ADMIN_A)
    provider = ScriptedProvider().enqueue(*[tool_reply("list_projects", {}) for _ in range(3)])
    services = make_services(provider, max_turn_steps=3)
    cid = new_conversation(services, admin)

    events = collect(run_turn(services.turn_deps(), cid, admin, "Loop forever"))

    assert len(of(events, ev.ToolUsed)) == 3 and len(provider.requests) == 3
    error = one(events, ev.ErrorEvent)
    assert error.code == "steps" and error.message.startswith("Stopped after 3 steps without a final answer.")
    assert done(events).stop == "steps"
    # every call got its result stored: the history is complete for the next turn
    last = services.store.conversations.list_messages(cid)[-1]
    assert last.metadata == {"kind": "tool_results"}
    provider.enqueue("Fine.")
    next_turn = collect(run_turn(services.turn_deps(), cid, admin, "stop"))
    assert text_of(next_turn) == "Fine."
    assert not [
        b
        for m in provider.last_request.messages
        for b in m.content
        if isinstance(b, ToolResultBlock) and b.content == NOT_RUN
    ]
