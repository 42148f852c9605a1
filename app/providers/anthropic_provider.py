"""Claude through the official `anthropic` SDK: streaming Messages API, tools, prompt caching.

Why each choice:
- Raw stream events (`messages.create(stream=True)`) rather than the SDK's accumulating helper,
  because we need the text deltas as they come *and* an exact, neutral final message, and the
  raw events are the documented wire contract our fake server reproduces.
- Retries: the SDK's `max_retries` covers a request until its response headers arrive (429, 529,
  5xx, connection errors, timeouts; see `_request` / `_should_retry` in anthropic/_base_client.py).
  A failure inside an already-started event stream (an SSE `error` event such as overloaded_error,
  a stalled read) is not retried by the SDK, so `stream_with_retries` starts over when nothing has
  been shown to the user yet.
- Thinking: current Claude models think by default; the API wants assistant turns sent back
  exactly as it returned them, thinking blocks included, and newer models check that nothing
  before a block changed. Every signed block the engine passes is sent; the engine drops those
  whose prefix changed (app.conversation.history.keep_valid_thinking). Unsigned thinking (not
  from Claude) cannot be replayed and is left out.
- Prompt caching: a request is laid out to only grow (tools, a static system prompt, then the
  conversation as it was sent), and carries at most three of the API's four `cache_control`
  breakpoints: on the system prompt (tools + system, shared by every conversation of a role), on
  the last block of the conversation as the previous call sent it (a sure read even when a
  parallel tool loop added more than the API's 20-block lookback), and on the last block of this
  request (written for the next call to read).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import anthropic
import httpx2

from app.providers._common import SdkStreamingProvider, parse_tool_arguments
from app.providers.base import (
    ContentBlock,
    Message,
    ModelRequest,
    ModelResponse,
    ProviderError,
    StopReason,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from app.tools.spec import ToolSpec
from app.usage.usage import Usage

EPHEMERAL = {"type": "ephemeral"}
RETRYABLE_ERROR_TYPES = {"overloaded_error", "rate_limit_error", "api_error", "timeout_error"}
STATUS_OF_TYPE = {"overloaded_error": 529, "rate_limit_error": 429, "api_error": 500, "timeout_error": 504}
STOP_REASONS: dict[str, StopReason] = {
    "end_turn": "end_turn",
    "stop_sequence": "end_turn",
    "pause_turn": "end_turn",
    "refusal": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "model_context_window_exceeded": "max_tokens",
}


class AnthropicProvider(SdkStreamingProvider):
    """`Provider` for Claude. One instance holds one SDK client (and so one connection pool)."""

    name = "anthropic"
    default_base_url = "https://api.anthropic.com"
    sdk_errors = (anthropic.AnthropicError, httpx2.HTTPError)

    def _make_client(self, api_key: str) -> anthropic.Anthropic:
        return anthropic.Anthropic(
            api_key=api_key, base_url=self.base_url, timeout=self.timeout_s, max_retries=self.max_retries
        )

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        return request_params(request, self.model, self.max_tokens)

    def _open(self, params: dict[str, Any]) -> Any:
        return self._client.messages.create(**params, stream=True)

    def _new_state(self) -> _StreamState:
        return _StreamState()

    def _response(self, state: _StreamState, params: dict[str, Any], latency_ms: float) -> ModelResponse:
        return state.response(self.model, latency_ms)

    def _is_retryable(self, err: BaseException | None) -> bool:
        return _is_retryable(err)

    def _provider_error(self, err: BaseException | None, when: str) -> ProviderError:
        if isinstance(err, ProviderError):
            return ProviderError(f"{err} ({when})", retryable=err.retryable, status=err.status)
        if isinstance(err, (anthropic.APITimeoutError, httpx2.TimeoutException)):
            return ProviderError(
                f"Claude did not answer within {self.timeout_s:g} s (LLM_TIMEOUT_S), {when}.",
                retryable=True,
            )
        if isinstance(err, (anthropic.APIConnectionError, httpx2.TransportError)):
            return ProviderError(
                f"Could not reach the Anthropic API at {self.base_url} {when} ({err}). "
                "Check the network, or ANTHROPIC_BASE_URL if you use a gateway.",
                retryable=True,
            )
        if isinstance(err, anthropic.APIStatusError):
            return _status_error(err, self.model, when)
        return ProviderError(f"Claude call failed: {err}", retryable=False)


def _is_retryable(err: BaseException | None) -> bool:
    if isinstance(err, ProviderError):
        return err.retryable
    if isinstance(err, anthropic.APIStatusError):
        status = err.status_code
        return err.type in RETRYABLE_ERROR_TYPES or status in (408, 409, 429) or status >= 500
    return isinstance(err, (anthropic.APIConnectionError, httpx2.TransportError))


def _status_error(err: anthropic.APIStatusError, model: str, retries: str) -> ProviderError:
    kind = err.type or "error"
    status = STATUS_OF_TYPE.get(kind, err.status_code) if err.status_code == 200 else err.status_code
    detail = f"{status} {kind}: {err.api_message or err.message}"
    if status == 401 or kind == "authentication_error":
        text = f"Anthropic rejected the API key ({detail}). Set a valid ANTHROPIC_API_KEY."
    elif status == 403 or kind == "permission_error":
        text = (
            f"The Anthropic API key may not do this ({detail}). Check ANTHROPIC_API_KEY and ANTHROPIC_MODEL."
        )
    elif status == 404 or kind == "not_found_error":
        text = (
            f"Anthropic does not know model {model!r} ({detail}). Set ANTHROPIC_MODEL to a current model id."
        )
    elif status == 402 or kind == "billing_error":
        text = f"Anthropic refused the call for billing reasons ({detail})."
    elif status == 429 or kind == "rate_limit_error":
        text = f"Rate limited by Anthropic ({detail}) {retries}; try again in a minute."
    elif status == 529 or kind == "overloaded_error":
        text = f"Claude is overloaded ({detail}) {retries}; try again shortly."
    elif status >= 500:
        text = f"Anthropic server error ({detail}) {retries}."
    else:
        text = f"Anthropic refused the request ({detail})."
    return ProviderError(text, retryable=_is_retryable(err), status=status)


# --- request conversion ---------------------------------------------------------------------


def request_params(request: ModelRequest, model: str, max_tokens: int) -> dict[str, Any]:
    """The keyword arguments of `messages.create` for a neutral request (without `stream`)."""
    messages = to_anthropic_messages(request.messages)
    params: dict[str, Any] = {
        "model": model,
        # LLM_MAX_TOKENS is the operator's ceiling; a request may ask for less.
        "max_tokens": min(request.max_tokens, max_tokens),
        "messages": messages,
    }
    cache = request.cache_prompt
    if request.system:
        if cache:
            params["system"] = [{"type": "text", "text": request.system, "cache_control": EPHEMERAL}]
        else:
            params["system"] = request.system
    if request.tools:
        params["tools"] = to_anthropic_tools(request.tools, cache=cache and not request.system)
    if cache:
        mark_conversation(messages)
    if request.temperature is not None:
        # Sent only when asked: current Claude models reject non-default sampling parameters.
        params["temperature"] = request.temperature
    return params


def to_anthropic_tools(tools: Sequence[ToolSpec], *, cache: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in tools
    ]
    if cache and out:
        out[-1]["cache_control"] = EPHEMERAL
    return out


def to_anthropic_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Neutral messages -> Anthropic `messages`.

    Tool results go first in their user message (the API requires it); empty text blocks and
    unsigned thinking are dropped, and a message left empty with them (the API rejects both), its
    neighbours of one role then merged; signed thinking is sent as received (see the module
    docstring).
    """
    out: list[dict[str, Any]] = []
    for message in messages:
        blocks = [b for b in (_block(block) for block in message.content) if b is not None]
        if not blocks:
            continue
        if out and out[-1]["role"] == message.role:
            blocks = out.pop()["content"] + blocks
        if message.role == "user":
            blocks.sort(key=lambda b: b["type"] != "tool_result")
        out.append({"role": message.role, "content": blocks})
    return out


def mark_conversation(messages: list[dict[str, Any]]) -> None:
    """Cache breakpoints on the conversation (in place): its last block, and the last block of the
    conversation as the previous call sent it (the user message before the last assistant one)."""
    if not messages:
        return
    marks = [len(messages) - 1]
    last_assistant = next(
        (i for i in range(len(messages) - 1, -1, -1) if messages[i]["role"] == "assistant"), -1
    )
    if last_assistant > 0 and messages[last_assistant - 1]["role"] == "user":
        marks.append(last_assistant - 1)
    for index in marks:
        messages[index]["content"][-1]["cache_control"] = dict(EPHEMERAL)


def _block(block: ContentBlock) -> dict[str, Any] | None:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text} if block.text else None
    if isinstance(block, ToolUseBlock):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    if isinstance(block, ToolResultBlock):
        out: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": block.tool_use_id,
            "content": block.content,
        }
        if block.is_error:
            out["is_error"] = True
        return out
    if block.redacted_data is not None:
        return {"type": "redacted_thinking", "data": block.redacted_data}
    if block.signature:
        return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
    return None  # unsigned thinking (not from Claude) cannot be replayed


def map_stop_reason(reason: str | None) -> StopReason:
    """Anthropic stop reasons -> the neutral set (refusal and pause end the turn)."""
    return STOP_REASONS.get(reason or "end_turn", "end_turn")


# --- response accumulation ------------------------------------------------------------------


class _StreamState:
    """Builds the final message from raw stream events; `feed` returns any new answer text."""

    def __init__(self) -> None:
        self.blocks: dict[int, dict[str, Any]] = {}
        self.usage: dict[str, int] = {}
        self.stop_reason: str | None = None
        self.finished = False

    def unfinished(self) -> str | None:
        return None if self.finished else "the event stream ended before message_stop"

    def feed(self, event: Any) -> str | None:
        kind = event.type
        if kind == "message_start":
            self._merge_usage(event.message.usage)
        elif kind == "content_block_start":
            self._start_block(event.index, event.content_block)
        elif kind == "content_block_delta":
            return self._delta(event.index, event.delta)
        elif kind == "message_delta":
            self.stop_reason = event.delta.stop_reason
            self._merge_usage(event.usage)
        elif kind == "message_stop":
            self.finished = True
        return None

    def _merge_usage(self, usage: Any) -> None:
        # message_delta carries cumulative totals; a field it omits keeps the message_start value.
        for name in (
            "input_tokens",
            "output_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
        ):
            value = getattr(usage, name, None)
            if value is not None:
                self.usage[name] = int(value)

    def _start_block(self, index: int, block: Any) -> None:
        if block.type == "text":
            self.blocks[index] = {"type": "text", "text": block.text}
        elif block.type == "tool_use":
            self.blocks[index] = {"type": "tool_use", "id": block.id, "name": block.name, "json": ""}
        elif block.type == "thinking":
            self.blocks[index] = {
                "type": "thinking",
                "thinking": block.thinking,
                "signature": block.signature,
            }
        elif block.type == "redacted_thinking":
            self.blocks[index] = {"type": "redacted_thinking", "data": block.data}
        # server-side tool blocks are not used by this product and are ignored

    def _delta(self, index: int, delta: Any) -> str | None:
        block = self.blocks.get(index)
        if block is None:
            return None
        if delta.type == "text_delta":
            block["text"] += delta.text
            return cast(str, delta.text)
        if delta.type == "input_json_delta":
            block["json"] += delta.partial_json
        elif delta.type == "thinking_delta":
            block["thinking"] += delta.thinking
        elif delta.type == "signature_delta":
            block["signature"] = delta.signature
        return None

    def response(self, model: str, latency_ms: float) -> ModelResponse:
        content: list[ContentBlock] = []
        for index in sorted(self.blocks):
            block = self.blocks[index]
            if block["type"] == "text":
                content.append(TextBlock(block["text"]))
            elif block["type"] == "tool_use":
                args, problem = parse_tool_arguments(block["json"])
                content.append(ToolUseBlock(block["id"], block["name"], args, problem))
            elif block["type"] == "thinking":
                content.append(ThinkingBlock(block["thinking"], block["signature"] or None))
            else:
                content.append(ThinkingBlock("", None, block["data"]))
        usage = Usage(
            input_tokens=self.usage.get("input_tokens", 0),
            output_tokens=self.usage.get("output_tokens", 0),
            cache_write_tokens=self.usage.get("cache_creation_input_tokens", 0),
            cache_read_tokens=self.usage.get("cache_read_input_tokens", 0),
            requests=1,
        )
        return ModelResponse(
            content=tuple(content),
            stop_reason=map_stop_reason(self.stop_reason),
            usage=usage,
            provider=AnthropicProvider.name,
            model=model,
            latency_ms=latency_ms,
        )
