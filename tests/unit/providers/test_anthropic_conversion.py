"""Neutral request -> Anthropic Messages API parameters, without the network."""

from __future__ import annotations

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


def test_cached_prompt_marks_system_and_only_the_last_tool() -> None:
    params = request_params(ModelRequest(system="sys", messages=[Message.user("hi")], tools=TOOLS), "m", 4096)
    assert params["system"] == [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}]
    assert [("cache_control" in t) for t in params["tools"]] == [False, True]
    assert params["max_tokens"] == 1024 and params["model"] == "m"


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


def test_thinking_is_replayed_only_inside_the_current_tool_loop() -> None:
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
    assert out[1]["content"] == [{"type": "text", "text": "answer one"}]
    assert out[3]["content"][:2] == [
        {"type": "thinking", "thinking": "new", "signature": "s1"},
        {"type": "redacted_thinking", "data": "red"},
    ]
    assert out[5]["content"] == [{"type": "text", "text": "done"}]  # unsigned thinking cannot be replayed


def test_a_message_left_empty_is_dropped() -> None:
    messages = [Message.user("a"), Message("assistant", (ThinkingBlock("old", "s"),)), Message.user("b")]
    assert [m["role"] for m in to_anthropic_messages(messages)] == ["user", "user"]


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
