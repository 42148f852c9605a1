"""The scripted provider the conversation tests use in place of an LLM."""

from __future__ import annotations

import pytest

from app.providers.base import (
    Message,
    ModelRequest,
    ModelResponse,
    Provider,
    ProviderError,
    TextDelta,
    ToolUseBlock,
    complete,
)
from app.providers.scripted import ScriptedProvider, ScriptExhausted, text_reply, tool_reply
from app.tools.spec import ToolSpec
from app.usage.usage import Usage


def ask(text: str = "hi") -> ModelRequest:
    return ModelRequest(
        system="You help.", messages=[Message.user(text)], tools=(ToolSpec("f", "does f", {}),)
    )


def test_is_a_provider_and_streams_text_in_several_deltas() -> None:
    provider = ScriptedProvider().enqueue("Tracks group courses into a path.")
    assert isinstance(provider, Provider)
    items = list(provider.stream(ask()))
    deltas = [i for i in items if isinstance(i, TextDelta)]
    assert len(deltas) == 6
    assert "".join(d.text for d in deltas) == "Tracks group courses into a path."
    final = items[-1]
    assert isinstance(final, ModelResponse) and final.stop_reason == "end_turn"
    assert (final.provider, final.model) == ("scripted", "scripted-model")


def test_replays_the_script_in_order_and_records_every_request() -> None:
    provider = ScriptedProvider()
    provider.enqueue_tool_call("list_projects", {"org": "acme"}, id="c1")
    provider.enqueue_text("Two projects.")
    first = complete(provider, ask("list"))
    second = complete(provider, ask("thanks"))
    assert first.stop_reason == "tool_use"
    assert first.tool_uses == [ToolUseBlock("c1", "list_projects", {"org": "acme"})]
    assert second.text == "Two projects."
    assert [r.messages[-1].text for r in provider.requests] == ["list", "thanks"]
    assert provider.last_request.messages[-1].text == "thanks"
    assert provider.remaining == 0


def test_scripted_errors_are_raised() -> None:
    provider = ScriptedProvider().enqueue_error("overloaded", retryable=True, status=529)
    with pytest.raises(ProviderError) as caught:
        complete(provider, ask())
    assert (caught.value.retryable, caught.value.status) == (True, 529)


def test_malformed_tool_call_and_explicit_usage() -> None:
    usage = Usage(input_tokens=100, output_tokens=20, cache_write_tokens=5, cache_read_tokens=900, requests=1)
    provider = ScriptedProvider().enqueue(
        tool_reply(
            "create_track", input_error="tool arguments are not valid JSON", text="Trying.", usage=usage
        )
    )
    response = complete(provider, ask())
    assert response.tool_uses[0].input == {} and response.tool_uses[0].input_error
    assert response.text == "Trying."
    assert response.usage == usage


def test_default_usage_is_deterministic_and_grows_with_the_prompt() -> None:
    short = complete(ScriptedProvider().enqueue("ok"), ask("x")).usage
    again = complete(ScriptedProvider().enqueue("ok"), ask("x")).usage
    long = complete(ScriptedProvider().enqueue("ok"), ask("x" * 400)).usage
    assert short == again and short.requests == 1
    assert long.input_tokens == short.input_tokens + 100
    assert short.output_tokens == 1


def test_a_function_decides_per_request() -> None:
    provider = ScriptedProvider().enqueue(lambda request: text_reply(f"{len(request.messages)} message(s)"))
    assert complete(provider, ask()).text == "1 message(s)"


def test_running_out_of_script_fails_loudly_not_as_a_provider_error() -> None:
    provider = ScriptedProvider().enqueue("only one")
    complete(provider, ask())
    with pytest.raises(ScriptExhausted, match="no reply left for request #2"):
        complete(provider, ask("one more"))
    assert not issubclass(ScriptExhausted, ProviderError)
