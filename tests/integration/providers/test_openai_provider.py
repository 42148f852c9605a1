"""The real `openai` SDK, driven by OpenAIProvider, against the local fake chat-completions server."""

from __future__ import annotations

from collections.abc import Callable, Generator

import pytest

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
from app.providers.openai_provider import OpenAIProvider
from app.tools.spec import ToolSpec
from tests.fakes.openai_server import (
    FakeOpenAIServer,
    delay,
    error,
    reply,
    reply_text,
    reply_tool_use,
    stream_error,
    tool_call,
    usage,
)
from tests.integration.providers.conftest import sdk_waits

MakeOpenAI = Callable[..., OpenAIProvider]

TOOLS = (
    ToolSpec("list_projects", "List the organization's projects.", {"type": "object", "properties": {}}),
    ToolSpec(
        "create_track",
        "Create a learning track in a project.",
        {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
    ),
)


def ask(text: str = "Create a beginner track for Python", **kw: object) -> ModelRequest:
    return ModelRequest(system="You are the Course Creator assistant.", messages=[Message.user(text)], **kw)  # type: ignore[arg-type]


def test_tool_call_flow_accumulates_deltas_and_sends_the_result_as_a_tool_message(
    openai_server: FakeOpenAIServer, make_openai: MakeOpenAI
) -> None:
    openai_server.enqueue(
        reply_tool_use("create_track", {"name": "Python", "level": "beginner"}, id="call_1"),
        reply_text("Created the track."),
    )
    provider = make_openai()
    first = ask(tools=TOOLS)
    response = complete(provider, first)
    body = openai_server.bodies[0]
    assert body["tools"][1] == {
        "type": "function",
        "function": {
            "name": "create_track",
            "description": "Create a learning track in a project.",
            "parameters": TOOLS[1].input_schema,
        },
    }
    assert body["messages"][0] == {"role": "system", "content": "You are the Course Creator assistant."}
    assert response.stop_reason == "tool_use"
    assert response.content == (
        ToolUseBlock("call_1", "create_track", {"name": "Python", "level": "beginner"}),
    )

    follow_up = ModelRequest(
        system=first.system,
        tools=TOOLS,
        messages=[
            *first.messages,
            Message("assistant", response.content),
            Message("user", (ToolResultBlock("call_1", '{"id": "t1"}'),)),
        ],
    )
    assert complete(provider, follow_up).text == "Created the track."
    sent = openai_server.bodies[1]["messages"]
    assert sent[2] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "create_track", "arguments": '{"name": "Python", "level": "beginner"}'},
            }
        ],
    }
    assert sent[3] == {"role": "tool", "tool_call_id": "call_1", "content": '{"id": "t1"}'}


def test_streamed_answer_asks_for_usage_and_yields_several_deltas(
    openai_server: FakeOpenAIServer, make_openai: MakeOpenAI
) -> None:
    answer = "A course belongs to a track; a track belongs to a project."
    openai_server.enqueue(reply_text(answer, chunk_size=5))
    items = list(make_openai().stream(ask("What is a course?")))
    deltas, response = items[:-1], items[-1]
    assert isinstance(response, ModelResponse)
    assert len(deltas) >= 5 and all(isinstance(d, TextDelta) for d in deltas)
    assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == answer
    assert response.text == answer and response.stop_reason == "end_turn"
    body = openai_server.bodies[0]
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == 1024  # a compatible server gets max_tokens (the request's 1024 < cap)
    assert "max_completion_tokens" not in body


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ('{"name": "Pyth', "not valid JSON"),
        ('["Python"]', "must be a JSON object"),
        ('"Python"', "JSON object"),
    ],
)
def test_malformed_tool_arguments_become_an_input_error(
    openai_server: FakeOpenAIServer, make_openai: MakeOpenAI, arguments: str, problem: str
) -> None:
    openai_server.enqueue(reply_tool_use("create_track", arguments, id="call_bad"))
    (call,) = complete(make_openai(), ask(tools=TOOLS)).tool_uses
    assert (call.id, call.name, call.input) == ("call_bad", "create_track", {})
    assert call.input_error is not None and problem in call.input_error


def test_several_tool_calls_and_text_in_one_answer(
    openai_server: FakeOpenAIServer, make_openai: MakeOpenAI
) -> None:
    openai_server.enqueue(
        reply(
            "Looking both up.",
            [tool_call("list_projects", {}, "c1"), tool_call("create_track", {"name": "Go"}, "c2")],
        )
    )
    response = complete(make_openai(), ask(tools=TOOLS))
    assert response.content == (
        TextBlock("Looking both up."),
        ToolUseBlock("c1", "list_projects", {}),
        ToolUseBlock("c2", "create_track", {"name": "Go"}),
    )


def test_cached_prompt_tokens_move_to_cache_reads(
    openai_server: FakeOpenAIServer, make_openai: MakeOpenAI
) -> None:
    openai_server.enqueue(
        reply_text("ok", usage=usage(prompt_tokens=2000, completion_tokens=12, cached_tokens=1536))
    )
    result = complete(make_openai(), ask()).usage
    assert result.as_dict() == {
        "input_tokens": 464,
        "output_tokens": 12,
        "cache_write_tokens": 0,
        "cache_read_tokens": 1536,
        "requests": 1,
    }


def test_429_then_500_then_success_are_retried(
    openai_server: FakeOpenAIServer, make_openai: MakeOpenAI
) -> None:
    openai_server.enqueue(
        error(429, retry_after_ms=10), error(500, retry_after_ms=10), reply_text("third time")
    )
    assert complete(make_openai(max_retries=2), ask()).text == "third time"
    assert [r.headers["x-stainless-retry-count"] for r in openai_server.requests] == ["0", "1", "2"]


def test_bad_key_is_not_retryable_and_names_the_setting() -> None:
    with FakeOpenAIServer(api_key="right") as server:
        provider = OpenAIProvider("wrong", "qwen3:8b", server.base_url, max_retries=3)
        with pytest.raises(ProviderError) as caught:
            complete(provider, ask())
        provider.close()
    assert (caught.value.retryable, caught.value.status) == (False, 401)
    assert "OPENAI_API_KEY" in str(caught.value)
    assert len(server.requests) == 1
    assert server.requests[0].headers["authorization"] == "Bearer wrong"


def test_timeout_raises_a_retryable_error_within_the_configured_time(
    openai_server: FakeOpenAIServer, make_openai: MakeOpenAI
) -> None:
    openai_server.enqueue(delay(10), delay(10))
    provider = make_openai(timeout_s=0.3, max_retries=1)
    waits = sdk_waits(provider)
    with pytest.raises(ProviderError) as caught:
        complete(provider, ask())
    assert caught.value.retryable is True
    assert "did not answer within 0.3 s (LLM_TIMEOUT_S)" in str(caught.value)
    # each attempt was sent with the configured read timeout and given up on before the 10 s stall
    # ended (the stalled reply would have been an answer); one backoff of the SDK in between
    assert [r.headers["x-stainless-read-timeout"] for r in openai_server.requests] == ["0.3", "0.3"]
    assert len(waits) == 1 and 0 < waits[0] <= 0.5


def test_unreachable_server_is_retryable_and_names_the_base_url() -> None:
    with FakeOpenAIServer() as server:
        base_url = server.base_url
    provider = OpenAIProvider("k", "m", base_url, max_retries=0, timeout_s=2)  # nothing listens there now
    with pytest.raises(ProviderError) as caught:
        complete(provider, ask())
    assert caught.value.retryable is True
    assert "OPENAI_BASE_URL" in str(caught.value) and base_url in str(caught.value)


def test_error_inside_the_stream_is_retried_when_nothing_was_shown(
    openai_server: FakeOpenAIServer, make_openai: MakeOpenAI
) -> None:
    openai_server.enqueue(stream_error(), reply_text("recovered"))
    waits: list[float] = []
    assert complete(make_openai(sleep=waits.append), ask()).text == "recovered"
    assert len(openai_server.requests) == 2
    assert [r.headers["x-stainless-retry-count"] for r in openai_server.requests] == ["0", "0"]
    assert len(waits) == 1 and 0.0075 <= waits[0] <= 0.01  # the provider's one backoff (0.01 s base)


def test_closing_the_stream_early_closes_the_http_connection(
    openai_server: FakeOpenAIServer, make_openai: MakeOpenAI
) -> None:
    openai_server.enqueue(reply_text("token " * 200, chunk_size=6, chunk_delay=0.02))
    stream = make_openai().stream(ask())
    assert isinstance(next(stream), TextDelta)
    assert isinstance(stream, Generator)
    stream.close()
    assert openai_server.wait_for_disconnect(timeout=3)
    assert openai_server.requests[0].completed is False


def test_tool_call_reported_with_finish_reason_stop_still_counts_as_tool_use(
    openai_server: FakeOpenAIServer, make_openai: MakeOpenAI
) -> None:
    # some compatible servers say "stop" after a tool call, and some send no call id
    openai_server.enqueue(reply(None, [tool_call("list_projects", {}, "")], finish_reason="stop"))
    response = complete(make_openai(), ask(tools=TOOLS))
    assert response.stop_reason == "tool_use"
    assert response.tool_uses[0].name == "list_projects"
    assert response.tool_uses[0].id.startswith("call_")


def test_conversation_round_trips_through_the_wire_format(
    openai_server: FakeOpenAIServer, make_openai: MakeOpenAI
) -> None:
    original = (
        TextBlock("Creating it."),
        ToolUseBlock("call_7", "create_track", {"name": "Python", "n": [1, 2]}),
    )

    def echo(body: dict[str, object]) -> object:
        sent = body["messages"][-3]  # type: ignore[index]
        calls = [
            tool_call(c["function"]["name"], c["function"]["arguments"], c["id"]) for c in sent["tool_calls"]
        ]
        return reply(sent["content"], calls)

    openai_server.enqueue(echo)
    request = ModelRequest(
        system="",
        messages=[
            Message.user("go"),
            Message("assistant", (ThinkingBlock("dropped", "sig"), *original)),
            Message(
                "user", (ToolResultBlock("call_7", "no such project", is_error=True), TextBlock("and then?"))
            ),
        ],
    )
    assert complete(make_openai(), request).content == original
    sent = openai_server.bodies[0]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "user"]
    assert sent[2] == {"role": "tool", "tool_call_id": "call_7", "content": "Error: no such project"}
    assert sent[3] == {"role": "user", "content": "and then?"}
