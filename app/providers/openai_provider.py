"""OpenAI, or any OpenAI-compatible server (vLLM, Ollama, llama.cpp), through the `openai` SDK.

Chat Completions rather than the Responses API, because Chat Completions is the dialect every
self-hosted server speaks; this provider is the product's self-hosted option first. Why the rest:
- Streaming with `stream_options={"include_usage": True}`, so the last chunk reports tokens.
- Tool calls arrive as deltas keyed by `index` (id and name first, arguments in pieces); they are
  put together here. Arguments that are not a JSON object become `input={}` plus `input_error`, so
  the turn loop can show the model its mistake instead of failing the turn.
- Usage: OpenAI counts cached prompt tokens inside `prompt_tokens`; they are moved to
  `cache_read_tokens` so that `input_tokens` means the same thing as for Claude.
- `max_completion_tokens` for OpenAI itself (its reasoning models reject `max_tokens`), `max_tokens`
  for other servers, which do not all know the newer name.
- Retries: the SDK retries until the response headers arrive; an error inside the stream is
  retried here when nothing was shown yet (see `stream_with_retries`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

import openai
from openai.types.chat import ChatCompletionChunk

from app.providers._common import SdkStreamingProvider, parse_tool_arguments
from app.providers.base import (
    ContentBlock,
    Message,
    ModelRequest,
    ModelResponse,
    ProviderError,
    StopReason,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from app.tools.spec import ToolSpec
from app.usage.usage import Usage

OPENAI_HOST = "api.openai.com"
FINISH_REASONS: dict[str, StopReason] = {
    "stop": "end_turn",
    "content_filter": "end_turn",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "length": "max_tokens",
}


class OpenAIProvider(SdkStreamingProvider):
    """`Provider` for OpenAI and OpenAI-compatible servers. `base_url` includes the `/v1` part."""

    name = "openai"
    default_base_url = f"https://{OPENAI_HOST}/v1"
    sdk_errors = (openai.OpenAIError,)

    @property
    def is_openai(self) -> bool:
        return urlparse(self.base_url).hostname == OPENAI_HOST

    def _make_client(self, api_key: str) -> openai.OpenAI:
        return openai.OpenAI(
            api_key=api_key, base_url=self.base_url, timeout=self.timeout_s, max_retries=self.max_retries
        )

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        return request_params(request, self.model, self.max_tokens, official=self.is_openai)

    def _open(self, params: dict[str, Any]) -> Any:
        return self._client.chat.completions.create(**params)

    def _new_state(self) -> _StreamState:
        return _StreamState()

    def _response(self, state: _StreamState, params: dict[str, Any], latency_ms: float) -> ModelResponse:
        return state.response(self.model, latency_ms, prompt_size(params))

    def _is_retryable(self, err: BaseException | None) -> bool:
        return _is_retryable(err)

    def _provider_error(self, err: BaseException | None, when: str) -> ProviderError:
        where = f"the OpenAI-compatible server at {self.base_url}"
        if isinstance(err, ProviderError):
            return ProviderError(f"{err} ({when})", retryable=err.retryable, status=err.status)
        if isinstance(err, openai.APITimeoutError):
            return ProviderError(
                f"{where} did not answer within {self.timeout_s:g} s (LLM_TIMEOUT_S), {when}.", retryable=True
            )
        if isinstance(err, openai.APIConnectionError):
            return ProviderError(
                f"Could not reach {where} {when}. Check OPENAI_BASE_URL and that the server is running.",
                retryable=True,
            )
        if isinstance(err, openai.APIStatusError):
            status = err.status_code
            detail = f"{status} {err.code or err.type or 'error'}: {err.message}"
            if status == 401:
                text = f"{where} rejected the API key ({detail}). Set a valid OPENAI_API_KEY."
            elif status == 404:
                text = f"{where} does not serve model {self.model!r} ({detail}). Set OPENAI_MODEL."
            elif status == 429:
                text = f"Rate limited by {where} ({detail}) {when}; try again in a minute."
            elif status >= 500:
                text = f"Server error at {where} ({detail}) {when}."
            else:
                text = f"{where} refused the request ({detail})."
            return ProviderError(text, retryable=_is_retryable(err), status=status)
        if isinstance(err, openai.APIError):  # an error event inside the stream
            return ProviderError(f"{where} failed {when}: {err.message}", retryable=_is_retryable(err))
        return ProviderError(f"OpenAI-compatible call failed: {err}", retryable=False)


def _is_retryable(err: BaseException | None) -> bool:
    if isinstance(err, ProviderError):
        return err.retryable
    if isinstance(err, openai.APIStatusError):
        return err.status_code in (408, 409, 429) or err.status_code >= 500
    if isinstance(err, openai.APIConnectionError):
        return True
    if isinstance(err, openai.APIError):
        return err.type in (None, "server_error") or err.code == "rate_limit_exceeded"
    return False


# --- request conversion ---------------------------------------------------------------------


def request_params(request: ModelRequest, model: str, max_tokens: int, *, official: bool) -> dict[str, Any]:
    """The keyword arguments of `chat.completions.create` for a neutral request."""
    params: dict[str, Any] = {
        "model": model,
        "messages": to_openai_messages(request.system, request.messages),
        "stream": True,
        "stream_options": {"include_usage": True},
        ("max_completion_tokens" if official else "max_tokens"): min(request.max_tokens, max_tokens),
    }
    if request.tools:
        params["tools"] = to_openai_tools(request.tools)
    if request.temperature is not None:
        params["temperature"] = request.temperature
    return params


def to_openai_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.input_schema},
        }
        for t in tools
    ]


def to_openai_messages(system: str, messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Neutral messages -> chat messages.

    Tool results become `role: "tool"` messages placed right after the assistant message that
    asked for them (before any user text of the same neutral message); an error result is
    prefixed with "Error:" since the format has no error flag. Thinking blocks are dropped.
    """
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for message in messages:
        texts = [b.text for b in message.content if isinstance(b, TextBlock) and b.text]
        if message.role == "assistant":
            calls = [b for b in message.content if isinstance(b, ToolUseBlock)]
            if not texts and not calls:
                continue
            entry: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None}
            if calls:
                entry["tool_calls"] = [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": json.dumps(c.input)},
                    }
                    for c in calls
                ]
            out.append(entry)
            continue
        for block in message.content:
            if isinstance(block, ToolResultBlock):
                content = block.content
                if block.is_error and not content.lower().startswith("error"):
                    content = f"Error: {content}"
                out.append({"role": "tool", "tool_call_id": block.tool_use_id, "content": content})
        if texts:
            out.append({"role": "user", "content": "\n\n".join(texts)})
    return out


def map_finish_reason(reason: str | None, has_tool_calls: bool) -> StopReason:
    """Some compatible servers report "stop" even when they called a tool: tool calls win."""
    if has_tool_calls:
        return "tool_use"
    return FINISH_REASONS.get(reason or "stop", "end_turn")


def normalize_usage(prompt_tokens: int, completion_tokens: int, cached_tokens: int) -> Usage:
    """OpenAI counts cached tokens inside prompt_tokens; ours keeps them apart."""
    cached = min(cached_tokens, prompt_tokens)
    return Usage(
        input_tokens=prompt_tokens - cached,
        output_tokens=completion_tokens,
        cache_read_tokens=cached,
        requests=1,
    )


CHARS_PER_TOKEN = 4
"""The usual rule of thumb for English text and code; an estimate is labelled as one anyway."""


def estimate_usage(prompt_chars: int, output_chars: int) -> Usage:
    """Usage for a call whose server reported none: from the length of what was sent and received."""
    return Usage(
        input_tokens=-(-prompt_chars // CHARS_PER_TOKEN),
        output_tokens=-(-output_chars // CHARS_PER_TOKEN),
        requests=1,
        estimated=True,
    )


def prompt_size(params: dict[str, Any]) -> int:
    """Characters of the messages and tool definitions sent: what the prompt's tokens come from."""
    return len(json.dumps(params.get("messages", []))) + len(json.dumps(params.get("tools", [])))


# --- response accumulation ------------------------------------------------------------------


class _StreamState:
    """Puts a streamed chat completion back together; `feed` returns any new answer text."""

    def __init__(self) -> None:
        self.text = ""
        self.calls: dict[int, dict[str, str]] = {}
        self.finish_reason: str | None = None
        self.usage = Usage(requests=1)
        self.reported = False

    def unfinished(self) -> str | None:
        return None if self.finish_reason is not None else "the stream ended without a finish_reason"

    def feed(self, chunk: ChatCompletionChunk) -> str | None:
        if chunk.usage is not None:
            self.reported = True
            details = chunk.usage.prompt_tokens_details
            cached = (details.cached_tokens or 0) if details is not None else 0
            self.usage = normalize_usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens, cached)
        new_text: str | None = None
        for choice in chunk.choices[:1]:
            delta = choice.delta
            if delta.content:
                self.text += delta.content
                new_text = delta.content
            for call in delta.tool_calls or []:
                slot = self.calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                if call.id:
                    slot["id"] = call.id
                if call.function is not None:
                    if call.function.name and not slot["name"]:
                        slot["name"] = call.function.name
                    slot["arguments"] += call.function.arguments or ""
            if choice.finish_reason is not None:
                self.finish_reason = choice.finish_reason
        return new_text

    def response(self, model: str, latency_ms: float, prompt_chars: int = 0) -> ModelResponse:
        content: list[ContentBlock] = [TextBlock(self.text)] if self.text else []
        if not self.reported:
            output_chars = len(self.text) + sum(
                len(c["name"]) + len(c["arguments"]) for c in self.calls.values()
            )
            self.usage = estimate_usage(prompt_chars, output_chars)
        for index in sorted(self.calls):
            call = self.calls[index]
            args, problem = parse_tool_arguments(call["arguments"])
            content.append(
                ToolUseBlock(call["id"] or f"call_{uuid.uuid4().hex[:24]}", call["name"], args, problem)
            )
        return ModelResponse(
            content=tuple(content),
            stop_reason=map_finish_reason(self.finish_reason, bool(self.calls)),
            usage=self.usage,
            provider=OpenAIProvider.name,
            model=model,
            latency_ms=latency_ms,
        )
