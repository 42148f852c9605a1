"""Limits (message size, rate, daily budget) refuse a turn cleanly, and a cancelled turn or a
half-finished history never breaks the conversation."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from app.conversation import events as ev
from app.conversation.history import NOT_RUN
from app.conversation.turn import MAX_MESSAGE_CHARS, run_turn
from app.providers.anthropic_provider import AnthropicProvider
from app.providers.base import Message, ToolUseBlock
from app.providers.scripted import ScriptedProvider, text_reply
from app.usage.usage import Usage
from tests.fakes import anthropic_server as fa
from tests.integration.conversation.conftest import ADMIN_A, INSTRUCTOR_A
from tests.integration.conversation.helpers import (
    bare,
    collect,
    done,
    is_turn_context,
    new_conversation,
    of,
    one,
    text_of,
)


# --- limits -----------------------------------------------------------------------------------
def test_a_message_over_the_limit_is_refused_and_nothing_is_stored(
    make_services: Callable[..., Any], sign_in: Any
) -> None:
    admin = sign_in(ADMIN_A)
    provider = ScriptedProvider().enqueue("Short answer.", "Long answer.")
    services = make_services(provider)
    cid = new_conversation(services, admin)
    deps = services.turn_deps()
    collect(run_turn(deps, cid, admin, "hello"))

    events = collect(run_turn(deps, cid, admin, "x" * (MAX_MESSAGE_CHARS + 1)))

    error = one(events, ev.ErrorEvent)
    assert error.code == "invalid_message" and not error.retryable
    assert error.message == (
        f"The message is {MAX_MESSAGE_CHARS + 1:,} characters long; the limit is {MAX_MESSAGE_CHARS:,}. "
        "Shorten it or split it into several messages."
    )
    assert done(events).stop == "error" and len(provider.requests) == 1
    assert services.store.conversations.count_messages(cid) == 2
    assert services.store.conversations.get(cid).title == "hello"  # type: ignore[union-attr]
    # the conversation goes on, and a message at the limit is accepted
    assert text_of(collect(run_turn(deps, cid, admin, "y" * MAX_MESSAGE_CHARS))) == "Long answer."


@pytest.mark.parametrize("message", ["", "   \n ", "nul \x00 inside"])
def test_empty_or_binary_messages_are_refused(
    message: str, make_services: Callable[..., Any], sign_in: Any
) -> None:
    admin = sign_in(ADMIN_A)
    services = make_services(ScriptedProvider())
    cid = new_conversation(services, admin)
    events = collect(run_turn(services.turn_deps(), cid, admin, message))
    assert one(events, ev.ErrorEvent).code == "invalid_message"
    assert services.store.conversations.count_messages(cid) == 0


def test_the_third_message_in_a_minute_is_rate_limited(
    make_services: Callable[..., Any], sign_in: Any
) -> None:
    admin, instructor = sign_in(ADMIN_A), sign_in(INSTRUCTOR_A)
    provider = ScriptedProvider().enqueue("one", "two", "other user")
    services = make_services(provider, user_requests_per_minute=2)
    deps = services.turn_deps()
    cid = new_conversation(services, admin)
    assert text_of(collect(run_turn(deps, cid, admin, "first"))) == "one"
    assert text_of(collect(run_turn(deps, cid, admin, "second"))) == "two"

    events = collect(run_turn(deps, cid, admin, "third"))

    error = one(events, ev.ErrorEvent)
    assert error.code == "rate_limited" and error.retryable
    assert error.message.startswith(
        "You are sending messages too quickly: the limit is 2 per minute. Try again in"
    )
    assert services.store.conversations.count_messages(cid) == 4
    assert len(provider.requests) == 2
    # the limit is per user
    other = new_conversation(services, instructor)
    assert text_of(collect(run_turn(deps, other, instructor, "hello"))) == "other user"


def test_the_daily_budget_refuses_the_turn_after_it_is_spent(
    make_services: Callable[..., Any], sign_in: Any
) -> None:
    admin = sign_in(ADMIN_A)
    priced = Usage(input_tokens=1000, output_tokens=1000, requests=1)  # $0.002 + $0.010 on claude-sonnet-5-5
    provider = ScriptedProvider(model="claude-sonnet-5-5").enqueue(text_reply("Sure.", usage=priced))
    services = make_services(provider, user_daily_budget_usd=0.01)
    deps = services.turn_deps()
    cid = new_conversation(services, admin)

    first = collect(run_turn(deps, cid, admin, "first"))
    assert one(first, ev.UsageReported).cost_usd == pytest.approx(0.012)

    events = collect(run_turn(deps, cid, admin, "second"))

    error = one(events, ev.ErrorEvent)
    assert error.code == "budget_exceeded" and not error.retryable
    assert error.message.startswith("Daily budget reached: you have spent $0.01 of your $0.01 daily budget.")
    assert "It resets at midnight UTC" in error.message
    assert services.store.conversations.count_messages(cid) == 2 and len(provider.requests) == 1


def test_calls_of_unknown_cost_do_not_spend_the_budget(
    make_services: Callable[..., Any], sign_in: Any
) -> None:
    admin = sign_in(ADMIN_A)
    huge = Usage(input_tokens=10_000_000, output_tokens=10_000_000, requests=1)
    provider = ScriptedProvider(model="not-in-the-table").enqueue(text_reply("a", usage=huge), "b")
    services = make_services(provider, user_daily_budget_usd=0.01)
    cid = new_conversation(services, admin)
    first = collect(run_turn(services.turn_deps(), cid, admin, "first"))
    assert one(first, ev.UsageReported).cost_usd is None
    assert text_of(collect(run_turn(services.turn_deps(), cid, admin, "second"))) == "b"


# --- cancellation and half-finished histories ---------------------------------------------------
def cancel_after_first_delta(events: Any, cancel: threading.Event) -> list[ev.Event]:
    out = []
    for event in events:
        out.append(event)
        if isinstance(event, ev.TextDelta):
            cancel.set()
    return out


def test_cancelling_while_claude_streams_keeps_the_partial_text_and_the_next_turn_works(
    anthropic_server: fa.FakeAnthropicServer, make_services: Callable[..., Any], sign_in: Any
) -> None:
    admin = sign_in(ADMIN_A)
    anthropic_server.enqueue(
        fa.reply_text("Tracks are learning paths. " * 20, chunk_size=10, chunk_delay=0.05),
        fa.reply_text("Picking up again."),
    )
    provider = AnthropicProvider("k", "claude-sonnet-5-5", base_url=anthropic_server.base_url, max_retries=0)
    services = make_services(provider)
    deps = services.turn_deps()
    cid = new_conversation(services, admin)
    cancel = threading.Event()

    events = cancel_after_first_delta(run_turn(deps, cid, admin, "Explain tracks", cancel), cancel)

    error = one(events, ev.ErrorEvent)
    assert (error.code, error.message) == ("cancelled", "Cancelled. Nothing more was done.")
    assert done(events).stop == "cancelled" and done(events).text == "Tracks are"
    assert len(of(events, ev.TextDelta)) == 1
    assert anthropic_server.wait_for_disconnect(5)  # the stream was closed, not read to the end
    stored = services.store.conversations.list_messages(cid)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[1].content == [{"type": "text", "text": "Tracks are [cancelled]"}]
    assert stored[1].metadata == {"cancelled": True}

    again = collect(run_turn(deps, cid, admin, "Go on"))
    assert text_of(again) == "Picking up again."
    assert [m["role"] for m in anthropic_server.bodies[-1]["messages"]] == ["user", "assistant", "user"]
    provider.close()


def test_a_cancel_set_before_the_model_call_calls_no_model(
    make_services: Callable[..., Any], sign_in: Any
) -> None:
    admin = sign_in(ADMIN_A)
    provider = ScriptedProvider().enqueue("after")
    services = make_services(provider)
    cid = new_conversation(services, admin)
    cancel = threading.Event()
    cancel.set()
    events = collect(run_turn(services.turn_deps(), cid, admin, "hello", cancel))
    assert one(events, ev.ErrorEvent).code == "cancelled" and provider.requests == []
    assert [m.role for m in services.store.conversations.list_messages(cid)] == ["user"]
    assert text_of(collect(run_turn(services.turn_deps(), cid, admin, "hello again"))) == "after"


def test_cancelling_a_scripted_stream_midway(make_services: Callable[..., Any], sign_in: Any) -> None:
    admin = sign_in(ADMIN_A)
    provider = ScriptedProvider().enqueue("one two three four five six", "seven")
    services = make_services(provider)
    cid = new_conversation(services, admin)
    cancel = threading.Event()
    events = cancel_after_first_delta(run_turn(services.turn_deps(), cid, admin, "count", cancel), cancel)
    assert done(events).stop == "cancelled" and text_of(events) == "one "
    assert services.store.conversations.list_messages(cid)[-1].content[0]["text"] == "one [cancelled]"
    assert text_of(collect(run_turn(services.turn_deps(), cid, admin, "again"))) == "seven"


def test_a_stored_dangling_tool_call_still_makes_a_valid_request(
    anthropic_server: fa.FakeAnthropicServer, make_services: Callable[..., Any], sign_in: Any
) -> None:
    """A turn that crashed after the model asked for a tool left a tool_use without its result;
    the fake server refuses such a request with a 400 just like the real API, so a 200 here
    means the history was repaired."""
    admin = sign_in(ADMIN_A)
    anthropic_server.enqueue(fa.reply_text("Let us start over."))
    provider = AnthropicProvider("k", "claude-sonnet-5-5", base_url=anthropic_server.base_url, max_retries=0)
    services = make_services(provider)
    cid = new_conversation(services, admin)
    store = services.store.conversations
    store.append_message(cid, "user", Message.user("List my projects").to_dict()["content"])
    dangling = Message("assistant", (ToolUseBlock("toolu_lost", "list_projects", {}),))
    store.append_message(cid, "assistant", dangling.to_dict()["content"])

    events = collect(run_turn(services.turn_deps(), cid, admin, "Hello?"))

    assert not of(events, ev.ErrorEvent) and text_of(events) == "Let us start over."
    messages = anthropic_server.bodies[0]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    result, context, question = bare(messages)[2]["content"]
    assert is_turn_context(context)
    assert result == {
        "type": "tool_result",
        "tool_use_id": "toolu_lost",
        "content": NOT_RUN,
        "is_error": True,
    }
    assert question == {"type": "text", "text": "Hello?"}
    provider.close()
