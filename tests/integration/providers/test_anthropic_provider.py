"""The real `anthropic` SDK, driven by AnthropicProvider, against the local fake Messages API."""

from __future__ import annotations

from collections.abc import Callable, Generator

import pytest

from app.providers.anthropic_provider import AnthropicProvider
from app.providers.base import (
    Message,
    ModelRequest,
    ModelResponse,
    ProviderError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    complete,
)
from app.tools.spec import ToolSpec
from tests.fakes.anthropic_server import (
    FakeAnthropicServer,
    delay,
    error,
    reply,
    reply_text,
    reply_tool_use,
    stream_error,
    thinking_block,
    tool_use_block,
    usage,
)
from tests.integration.providers.conftest import sdk_waits

MakeClaude = Callable[..., AnthropicProvider]

TOOLS = (
    ToolSpec("list_projects", "List the organization's projects.", {"type": "object", "properties": {}}),
    ToolSpec(
        "create_track",
        "Create a learning track in a project.",
        {
            "type": "object",
            "properties": {"project_id": {"type": "string"}, "name": {"type": "string"}},
            "required": ["project_id", "name"],
        },
    ),
)


def ask(text: str = "Create a beginner track for Python", **kw: object) -> ModelRequest:
    return ModelRequest(system="You are the Course Creator assistant.", messages=[Message.user(text)], **kw)  # type: ignore[arg-type]


def collect(provider: AnthropicProvider, request: ModelRequest) -> tuple[list[TextDelta], ModelResponse]:
    items = list(provider.stream(request))
    assert isinstance(items[-1], ModelResponse)
    assert all(isinstance(i, TextDelta) for i in items[:-1])
    return items[:-1], items[-1]  # type: ignore[return-value]


def test_tool_use_flow_caches_prompt_and_converts_the_tool_result(
    anthropic_server: FakeAnthropicServer, make_claude: MakeClaude
) -> None:
    anthropic_server.enqueue(
        reply_tool_use("create_track", {"project_id": "p1", "name": "Python"}, id="toolu_01", text="On it."),
        reply_text("Track 'Python' created."),
    )
    claude = make_claude()
    first = ask(tools=TOOLS)
    _, response = collect(claude, first)

    body = anthropic_server.bodies[0]
    assert body["stream"] is True
    assert body["system"] == [
        {
            "type": "text",
            "text": "You are the Course Creator assistant.",
            "cache_control": {"type": "ephemeral"},
        }
    ]
    assert [t["name"] for t in body["tools"]] == ["list_projects", "create_track"]
    # tools come first in the cached prefix: the system prompt's breakpoint covers them
    assert not any("cache_control" in t for t in body["tools"])
    # and the conversation's last block is a breakpoint too (incremental caching)
    assert body["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert body["tools"][-1]["input_schema"] == TOOLS[1].input_schema
    assert response.stop_reason == "tool_use"
    assert response.content == (
        TextBlock("On it."),
        ToolUseBlock("toolu_01", "create_track", {"project_id": "p1", "name": "Python"}),
    )

    follow_up = ModelRequest(
        system=first.system,
        tools=TOOLS,
        messages=[
            *first.messages,
            Message("assistant", response.content),
            Message("user", (ToolResultBlock("toolu_01", '{"id": "t9"}'),)),
        ],
    )
    final = complete(claude, follow_up)
    assert final.text == "Track 'Python' created."
    sent = anthropic_server.bodies[1]["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "On it."},
            {
                "type": "tool_use",
                "id": "toolu_01",
                "name": "create_track",
                "input": {"project_id": "p1", "name": "Python"},
            },
        ],
    }
    assert sent[2] == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_01",
                "content": '{"id": "t9"}',
                "cache_control": {"type": "ephemeral"},
            }
        ],
    }
    # where the first call ended is marked again, so this call reads what that one wrote
    assert sent[0]["content"][-1]["cache_control"] == {"type": "ephemeral"}


def test_streamed_answer_yields_several_deltas_then_the_response(
    anthropic_server: FakeAnthropicServer, make_claude: MakeClaude
) -> None:
    answer = "Tracks group courses into a learning path for a project."
    anthropic_server.enqueue(reply_text(answer, chunk_size=6))
    deltas, response = collect(make_claude(), ask("What is a track?"))
    assert len(deltas) >= 5
    assert "".join(d.text for d in deltas) == answer
    assert response.text == answer
    assert response.stop_reason == "end_turn"
    assert (response.provider, response.model) == ("anthropic", "claude-sonnet-5-5")
    assert response.latency_ms > 0


def test_usage_maps_cache_write_and_read_tokens_exactly(
    anthropic_server: FakeAnthropicServer, make_claude: MakeClaude
) -> None:
    anthropic_server.enqueue(
        reply_text(
            "Hi",
            usage=usage(
                input_tokens=21, output_tokens=7, cache_creation_input_tokens=1800, cache_read_input_tokens=0
            ),
        ),
        reply_text(
            "Hi again",
            usage=usage(
                input_tokens=35, output_tokens=9, cache_creation_input_tokens=0, cache_read_input_tokens=1800
            ),
        ),
    )
    claude = make_claude()
    first = complete(claude, ask("hi")).usage
    second = complete(claude, ask("hi again")).usage
    assert first.as_dict() == {
        "input_tokens": 21,
        "output_tokens": 7,
        "cache_write_tokens": 1800,
        "cache_read_tokens": 0,
        "requests": 1,
    }
    assert (
        second.input_tokens,
        second.output_tokens,
        second.cache_write_tokens,
        second.cache_read_tokens,
    ) == (
        35,
        9,
        0,
        1800,
    )


def test_529_then_success_is_retried_once_by_the_sdk(
    anthropic_server: FakeAnthropicServer, make_claude: MakeClaude
) -> None:
    anthropic_server.enqueue(error(529, retry_after_ms=10), reply_text("Back again."))
    answer = complete(make_claude(max_retries=2), ask())
    assert answer.text == "Back again."
    assert len(anthropic_server.requests) == 2
    # the SDK's own retry (before any response body): it counts its attempts in this header
    assert [r.headers["x-stainless-retry-count"] for r in anthropic_server.requests] == ["0", "1"]


def test_429_is_retried_after_the_retry_after_header(
    anthropic_server: FakeAnthropicServer, make_claude: MakeClaude
) -> None:
    anthropic_server.enqueue(error(429, retry_after=0.3), reply_text("ok"))
    claude = make_claude()
    waits = sdk_waits(claude)
    assert complete(claude, ask()).text == "ok"
    assert waits == [0.3]  # the client waited what the server's retry-after said, once
    assert len(anthropic_server.requests) == 2
    assert [r.headers["x-stainless-retry-count"] for r in anthropic_server.requests] == ["0", "1"]


def test_overload_that_never_ends_raises_a_retryable_error(
    anthropic_server: FakeAnthropicServer, make_claude: MakeClaude
) -> None:
    anthropic_server.enqueue(*[error(529, retry_after_ms=5) for _ in range(3)])
    with pytest.raises(ProviderError) as caught:
        complete(make_claude(max_retries=2), ask())
    assert caught.value.retryable is True
    assert caught.value.status == 529
    assert "overloaded" in str(caught.value).lower()
    assert len(anthropic_server.requests) == 3


def test_bad_key_is_not_retryable_and_names_the_setting() -> None:
    with FakeAnthropicServer(api_key="the-right-key") as server:
        claude = AnthropicProvider("sk-wrong", "claude-sonnet-5-5", server.base_url, max_retries=3)
        with pytest.raises(ProviderError) as caught:
            complete(claude, ask())
        claude.close()
    assert caught.value.retryable is False
    assert caught.value.status == 401
    assert "ANTHROPIC_API_KEY" in str(caught.value)
    assert len(server.requests) == 1  # a 401 is never retried
    assert server.presented_key(server.requests[0].headers) == "sk-wrong"


def test_timeout_raises_a_retryable_error_within_the_configured_time(
    anthropic_server: FakeAnthropicServer, make_claude: MakeClaude
) -> None:
    anthropic_server.enqueue(delay(10), delay(10))
    claude = make_claude(timeout_s=0.3, max_retries=1)
    waits = sdk_waits(claude)
    with pytest.raises(ProviderError) as caught:
        complete(claude, ask())
    assert caught.value.retryable is True
    assert "did not answer within 0.3 s (LLM_TIMEOUT_S)" in str(caught.value)
    # each attempt was sent with the configured read timeout and given up on before the 10 s stall
    # ended (the stalled reply would have been an answer); one backoff of the SDK in between
    assert [r.headers["x-stainless-read-timeout"] for r in anthropic_server.requests] == ["0.3", "0.3"]
    assert len(waits) == 1 and 0 < waits[0] <= 0.5


def test_overload_inside_the_stream_is_retried_by_the_provider_not_the_sdk(
    anthropic_server: FakeAnthropicServer, make_claude: MakeClaude
) -> None:
    anthropic_server.enqueue(stream_error("overloaded_error"), reply_text("second try"))
    waits: list[float] = []
    assert complete(make_claude(sleep=waits.append), ask()).text == "second try"
    # both attempts are fresh SDK calls: the SDK never retried the failed stream itself
    assert [r.headers["x-stainless-retry-count"] for r in anthropic_server.requests] == ["0", "0"]
    assert len(waits) == 1 and 0.0075 <= waits[0] <= 0.01  # the provider's one backoff (0.01 s base)


def test_stream_failing_after_text_was_shown_is_not_retried(
    anthropic_server: FakeAnthropicServer, make_claude: MakeClaude
) -> None:
    anthropic_server.enqueue(stream_error("overloaded_error", after_text="Half an ans"), reply_text("unused"))
    seen: list[str] = []
    with pytest.raises(ProviderError) as caught:
        for item in make_claude().stream(ask()):
            if isinstance(item, TextDelta):
                seen.append(item.text)
    assert seen == ["Half an ans"]
    assert caught.value.retryable is True
    assert "midway" in str(caught.value)
    assert len(anthropic_server.requests) == 1


def test_closing_the_stream_early_closes_the_http_connection(
    anthropic_server: FakeAnthropicServer, make_claude: MakeClaude
) -> None:
    anthropic_server.enqueue(reply_text("word " * 200, chunk_size=5, chunk_delay=0.02))
    stream = make_claude().stream(ask())
    first = next(stream)
    assert isinstance(first, TextDelta)
    assert isinstance(stream, Generator)
    stream.close()  # the user pressed stop
    assert anthropic_server.wait_for_disconnect(timeout=3)
    assert anthropic_server.requests[0].completed is False


def test_malformed_tool_input_becomes_an_input_error(
    anthropic_server: FakeAnthropicServer, make_claude: MakeClaude
) -> None:
    # e.g. a tool call cut off by max_tokens: its input JSON never closes
    anthropic_server.enqueue(
        reply(tool_use_block("create_track", '{"name": "Pyth', "toolu_9"), stop_reason="max_tokens")
    )
    response = complete(make_claude(), ask(tools=TOOLS))
    (call,) = response.tool_uses
    assert (call.id, call.name, call.input) == ("toolu_9", "create_track", {})
    assert call.input_error is not None and "not valid JSON" in call.input_error
    assert response.stop_reason == "max_tokens"


def test_signed_thinking_is_echoed_as_received_in_the_tool_loop_and_in_earlier_turns(
    anthropic_server: FakeAnthropicServer, make_claude: MakeClaude
) -> None:
    anthropic_server.enqueue(
        reply(
            thinking_block("Need the project id first.", "sig-1"),
            tool_use_block("list_projects", {}, "toolu_1"),
        ),
        reply_text("Which project?"),
    )
    claude = make_claude()
    earlier = [
        Message.user("hello"),
        Message("assistant", (ThinkingBlock("old thought", "sig-old"), TextBlock("Hi!"))),
        Message.user("Create a track"),
    ]
    step1 = complete(claude, ModelRequest(system="s", messages=earlier, tools=TOOLS))
    assert step1.content[0] == ThinkingBlock("Need the project id first.", "sig-1")
    step2 = ModelRequest(
        system="s",
        tools=TOOLS,
        messages=[
            *earlier,
            Message("assistant", step1.content),
            Message("user", (ToolResultBlock("toolu_1", "[]"),)),
        ],
    )
    complete(claude, step2)
    sent = anthropic_server.bodies[1]["messages"]
    # the engine decides which thinking may still go (history.keep_valid_thinking); sent as received
    assert sent[1]["content"] == [
        {"type": "thinking", "thinking": "old thought", "signature": "sig-old"},
        {"type": "text", "text": "Hi!"},
    ]
    assert sent[3]["content"][0] == {
        "type": "thinking",
        "thinking": "Need the project id first.",
        "signature": "sig-1",
    }


def test_request_shape_without_caching_and_with_defaults(
    anthropic_server: FakeAnthropicServer, make_claude: MakeClaude
) -> None:
    anthropic_server.enqueue(reply_text("ok"))
    complete(make_claude(max_tokens=512), ask(tools=TOOLS, cache_prompt=False, max_tokens=4000))
    body = anthropic_server.bodies[0]
    assert body["system"] == "You are the Course Creator assistant."
    assert all("cache_control" not in t for t in body["tools"])
    assert body["max_tokens"] == 512  # LLM_MAX_TOKENS caps what a request asks for
    assert "temperature" not in body  # current Claude models reject sampling parameters
    assert body["model"] == "claude-sonnet-5-5"


def test_echoed_blocks_round_trip_through_the_wire_format(
    anthropic_server: FakeAnthropicServer, make_claude: MakeClaude
) -> None:
    original = (
        ThinkingBlock("plan", "sig-7"),
        TextBlock("Creating it."),
        ToolUseBlock("toolu_7", "create_track", {"name": "Python", "level": "beginner", "tags": ["a", "b"]}),
    )
    # the fake answers with the assistant blocks it was sent: wire -> neutral must give them back
    anthropic_server.enqueue(lambda body: reply(*body["messages"][-2]["content"]))
    request = ModelRequest(
        system="s",
        messages=[
            Message.user("go"),
            Message("assistant", original),
            Message("user", (ToolResultBlock("toolu_7", "ok", is_error=True),)),
        ],
    )
    response = complete(make_claude(), request)
    assert response.content == original
    assert anthropic_server.bodies[0]["messages"][2]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_7",
            "content": "ok",
            "is_error": True,
            "cache_control": {"type": "ephemeral"},
        }
    ]
