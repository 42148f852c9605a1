"""Neutral request -> Anthropic Messages API parameters, without the network."""

from __future__ import annotations

from typing import Any

from app.providers.anthropic_provider import map_stop_reason, request_params, to_anthropic_messages
from app.providers.base import (
    Message,
    ModelRequest,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from app.tools.spec import ToolSpec

TOOLS = (ToolSpec("a", "first", {"type": "object"}), ToolSpec("b", "second", {"type": "object"}))


def marks(params: dict[str, Any]) -> list[str]:
    """Where the request's cache breakpoints are, in the API's prefix order."""
    out = [f"tool {t['name']}" for t in params.get("tools", []) if "cache_control" in t]
    system = params.get("system")
    if isinstance(system, list):
        out += ["system" for b in system if "cache_control" in b]
    for i, m in enumerate(params["messages"]):
        out += [f"message {i} block {j}" for j, b in enumerate(m["content"]) if "cache_control" in b]
    return out


def test_cached_prompt_marks_the_system_prompt_and_the_end_of_the_conversation() -> None:
    params = request_params(ModelRequest(system="sys", messages=[Message.user("hi")], tools=TOOLS), "m", 4096)
    assert params["system"] == [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}]
    # the tools come before the system prompt in the cached prefix: its breakpoint covers them
    assert marks(params) == ["system", "message 0 block 0"]
    assert params["max_tokens"] == 1024 and params["model"] == "m"


def test_without_a_system_prompt_the_last_tool_carries_the_breakpoint() -> None:
    params = request_params(ModelRequest(system="", messages=[Message.user("hi")], tools=TOOLS), "m", 4096)
    assert marks(params) == ["tool b", "message 0 block 0"]


def test_the_end_of_the_previous_call_is_marked_too_and_never_more_than_four_breakpoints() -> None:
    """The previous call wrote its cache entry at the end of the user message before the last
    assistant message; marking it again makes it a read whatever the lookback in between."""
    many_calls = tuple(ToolUseBlock(f"t{i}", "a", {}) for i in range(30))
    messages = [
        Message.user("first"),
        Message.assistant("answer"),
        Message("user", (TextBlock("facts"), TextBlock("second"))),
        Message("assistant", many_calls),
        Message("user", tuple(ToolResultBlock(f"t{i}", "ok") for i in range(30))),
    ]
    params = request_params(ModelRequest(system="sys", messages=messages, tools=TOOLS), "m", 4096)
    assert marks(params) == ["system", "message 2 block 1", "message 4 block 29"]
    assert len(marks(params)) <= 4


def test_uncached_prompt_sends_a_plain_system_string_and_no_marks() -> None:
    request = ModelRequest(system="sys", messages=[Message.user("hi")], tools=TOOLS, cache_prompt=False)
    params = request_params(request, "m", 4096)
    assert params["system"] == "sys"
    assert not any("cache_control" in t for t in params["tools"])


def test_empty_system_and_no_tools_are_left_out_and_temperature_only_when_set() -> None:
    params = request_params(ModelRequest(system="", messages=[Message.user("hi")]), "m", 100)
    assert "system" not in params and "tools" not in params and "temperature" not in params
    assert params["max_tokens"] == 100
    warm = request_params(ModelRequest(system="", messages=[Message.user("hi")], temperature=0.2), "m", 100)
    assert warm["temperature"] == 0.2


def test_tool_results_go_first_and_empty_text_is_dropped() -> None:
    messages = [
        Message.user("go"),
        Message("assistant", (TextBlock(""), ToolUseBlock("t1", "a", {"x": 1}))),
        Message("user", (TextBlock("also this"), ToolResultBlock("t1", "boom", is_error=True))),
    ]
    assert to_anthropic_messages(messages) == [
        {"role": "user", "content": [{"type": "text", "text": "go"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "a", "input": {"x": 1}}]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "boom", "is_error": True},
                {"type": "text", "text": "also this"},
            ],
        },
    ]


def test_signed_thinking_is_replayed_as_received_and_unsigned_thinking_is_left_out() -> None:
    """Which thinking may still be sent is the engine's call (history.keep_valid_thinking): the
    provider sends every signed block, so the conversation's prefix stays what it was."""
    messages = [
        Message.user("turn one"),
        Message("assistant", (ThinkingBlock("old", "s0"), TextBlock("answer one"))),
        Message.user("turn two"),
        Message(
            "assistant",
            (ThinkingBlock("new", "s1"), ThinkingBlock("", None, "red"), ToolUseBlock("t", "a", {})),
        ),
        Message("user", (ToolResultBlock("t", "ok"),)),
        Message("assistant", (ThinkingBlock("unsigned"), TextBlock("done"))),
    ]
    out = to_anthropic_messages(messages)
    assert out[1]["content"] == [
        {"type": "thinking", "thinking": "old", "signature": "s0"},
        {"type": "text", "text": "answer one"},
    ]
    assert out[3]["content"][:2] == [
        {"type": "thinking", "thinking": "new", "signature": "s1"},
        {"type": "redacted_thinking", "data": "red"},
    ]
    assert out[5]["content"] == [{"type": "text", "text": "done"}]  # unsigned thinking cannot be replayed


def test_a_message_left_empty_is_dropped_and_its_neighbours_merged() -> None:
    messages = [Message.user("a"), Message("assistant", (ThinkingBlock("unsigned"),)), Message.user("b")]
    assert to_anthropic_messages(messages) == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
    ]


def test_stop_reasons_map_to_the_neutral_set() -> None:
    assert [map_stop_reason(r) for r in ("end_turn", "tool_use", "max_tokens", "stop_sequence")] == [
        "end_turn",
        "tool_use",
        "max_tokens",
        "end_turn",
    ]
    assert map_stop_reason("model_context_window_exceeded") == "max_tokens"
    assert map_stop_reason("refusal") == "end_turn"
    assert map_stop_reason(None) == "end_turn"
