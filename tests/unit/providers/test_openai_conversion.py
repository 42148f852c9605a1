"""Neutral request -> chat-completions parameters, and usage normalisation, without the network."""

from __future__ import annotations

from app.providers.base import Message, ModelRequest, TextBlock, ThinkingBlock, ToolResultBlock, ToolUseBlock
from app.providers.openai_provider import (
    map_finish_reason,
    normalize_usage,
    request_params,
    to_openai_messages,
)


def test_official_openai_gets_max_completion_tokens_other_servers_max_tokens() -> None:
    request = ModelRequest(system="s", messages=[Message.user("hi")], max_tokens=3000)
    official = request_params(request, "gpt-5.5", 2000, official=True)
    assert official["max_completion_tokens"] == 2000 and "max_tokens" not in official
    other = request_params(request, "qwen3", 4000, official=False)
    assert other["max_tokens"] == 3000 and "max_completion_tokens" not in other
    assert other["stream_options"] == {"include_usage": True}
    assert "tools" not in other and "temperature" not in other


def test_messages_become_chat_roles_with_tool_messages_after_the_call() -> None:
    messages = [
        Message.user("go"),
        Message(
            "assistant",
            (ThinkingBlock("x", "s"), TextBlock("Let me look."), ToolUseBlock("c1", "f", {"a": 1})),
        ),
        Message("user", (TextBlock("hurry"), ToolResultBlock("c1", "failed", is_error=True))),
        Message("assistant", (ThinkingBlock("only thinking", "s"),)),
    ]
    assert to_openai_messages("sys", messages) == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "Error: failed"},
        {"role": "user", "content": "hurry"},
    ]


def test_no_system_message_when_the_prompt_is_empty() -> None:
    assert to_openai_messages("", [Message.user("hi")]) == [{"role": "user", "content": "hi"}]


def test_cached_tokens_are_taken_out_of_the_prompt_count() -> None:
    usage = normalize_usage(prompt_tokens=1200, completion_tokens=30, cached_tokens=1024)
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens, usage.requests) == (
        176,
        1024,
        30,
        1,
    )
    odd = normalize_usage(prompt_tokens=10, completion_tokens=1, cached_tokens=50)  # never negative
    assert (odd.input_tokens, odd.cache_read_tokens) == (0, 10)


def test_finish_reasons() -> None:
    assert map_finish_reason("stop", False) == "end_turn"
    assert map_finish_reason("length", False) == "max_tokens"
    assert map_finish_reason("tool_calls", True) == "tool_use"
    assert map_finish_reason("stop", True) == "tool_use"
    assert map_finish_reason(None, False) == "end_turn"
