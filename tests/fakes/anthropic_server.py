"""A local stand-in for Anthropic's Messages API, so tests drive the real `anthropic` SDK over HTTP.

It speaks the wire format of `POST /v1/messages`: a JSON Message, or with `"stream": true` the SSE
sequence message_start, content_block_start, ping, content_block_delta (text_delta,
input_json_delta, thinking_delta, signature_delta), content_block_stop, message_delta (stop_reason,
usage), message_stop. Errors carry Anthropic's error JSON (`{"type": "error", "error": {...}}`),
and a request that the real API would refuse (a tool_use without its tool_result right after, an
empty text block, more than 4 cache_control breakpoints) gets the same kind of 400.

Scripting: each request takes the next queued reply.

    from tests.fakes.anthropic_server import FakeAnthropicServer, reply_text, reply_tool_use, error, delay

    with FakeAnthropicServer() as server:
        server.enqueue(
            error(529),                                     # overloaded: the SDK retries it
            reply_tool_use("list_projects", {"org": "acme"}),
            reply_text("You have two projects.", usage=usage(input_tokens=50, cache_read_input_tokens=900)),
        )
        client = anthropic.Anthropic(api_key="test", base_url=server.base_url)
        ...
        assert server.bodies[-1]["messages"][-1]["content"][0]["type"] == "tool_result"

Replies:
- `reply_text(text, stop_reason="end_turn", usage=None, chunk_size=8, chunk_delay=0.0)`
- `reply_tool_use(name, input, id=None, text=None, usage=None)`: optional text, then one tool call
- `reply(*blocks, stop_reason=..., usage=...)` with `text_block`, `tool_use_block`, `thinking_block`
- `error(status, message=None, type=None, retry_after=None, retry_after_ms=None)`: 401, 429, 529, ...
- `stream_error(type="overloaded_error", after_text=None)`: a 200 stream that fails midway
- `delay(seconds, then=None)`: hold the answer (client timeout), then send `then` (default a text)
- a callable `f(body) -> reply` decides from the request.
`FakeAnthropicServer(api_key="k")` answers 401 to any other key (sent as x-api-key or as Bearer).
`FakeAnthropicServer(cache=PromptCache())` reports the input side of each reply's usage (input,
cache write and cache read tokens) as the real prompt cache would for that request (see
tests/fakes/prompt_cache.py for how it decides), keeping the scripted output tokens; each answered
request's computed usage is in `server.cache_usage`.
`server.requests` holds each request's method, path, lower-cased headers and JSON body;
`wait_for_disconnect()` tells whether a client hung up mid-stream. A request with nothing queued
gets a 400 naming the server, so a test that under-scripts fails at once instead of hanging.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from tests.fakes._server import (
    Delay,
    HttpError,
    RecordedRequest,
    ScriptedServer,
    Writer,
    delay,
    retry_headers,
    split_text,
)
from tests.fakes.prompt_cache import CacheUsage, PromptCache

__all__ = [
    "AssistantReply",
    "Delay",
    "FakeAnthropicServer",
    "HttpError",
    "StreamError",
    "delay",
    "error",
    "reply",
    "reply_text",
    "reply_tool_use",
    "stream_error",
    "text_block",
    "thinking_block",
    "tool_use_block",
    "usage",
]

ERROR_TYPES = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "The requested resource could not be found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
    500: ("api_error", "An unexpected error has occurred internal to Anthropic's systems."),
    504: ("timeout_error", "Request timed out."),
    529: ("overloaded_error", "Overloaded"),
}


def usage(
    input_tokens: int = 25,
    output_tokens: int = 10,
    cache_creation_input_tokens: int = 0,
    cache_read_input_tokens: int = 0,
) -> dict[str, int]:
    """Anthropic's usage object: `input_tokens` excludes the cached ones."""
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": cache_creation_input_tokens,
        "cache_read_input_tokens": cache_read_input_tokens,
    }


@dataclass(frozen=True)
class AssistantReply:
    """One assistant message: Anthropic content blocks, stop reason, usage, streaming pace."""

    content: tuple[dict[str, Any], ...]
    stop_reason: str = "end_turn"
    usage: dict[str, int] = field(default_factory=usage)
    chunk_size: int = 8
    chunk_delay: float = 0.0


@dataclass(frozen=True)
class StreamError:
    """A stream that starts fine (200, message_start) and then sends an SSE `error` event."""

    type: str = "overloaded_error"
    message: str = "Overloaded"
    after_text: str | None = None


def text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def tool_use_block(name: str, input: dict[str, Any] | str, id: str | None = None) -> dict[str, Any]:
    """A tool call; a str `input` is streamed verbatim as input_json_delta (to script broken JSON)."""
    return {"type": "tool_use", "id": id or f"toolu_{uuid.uuid4().hex[:24]}", "name": name, "input": input}


def thinking_block(thinking: str, signature: str = "sig-fake") -> dict[str, Any]:
    return {"type": "thinking", "thinking": thinking, "signature": signature}


def reply(
    *blocks: dict[str, Any],
    stop_reason: str | None = None,
    usage: dict[str, int] | None = None,
    chunk_size: int = 8,
    chunk_delay: float = 0.0,
) -> AssistantReply:
    if stop_reason is None:
        stop_reason = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    return AssistantReply(
        tuple(blocks), stop_reason, usage or _default_usage(blocks), chunk_size, chunk_delay
    )


def reply_text(
    text: str,
    *,
    stop_reason: str = "end_turn",
    usage: dict[str, int] | None = None,
    chunk_size: int = 8,
    chunk_delay: float = 0.0,
) -> AssistantReply:
    return reply(
        text_block(text), stop_reason=stop_reason, usage=usage, chunk_size=chunk_size, chunk_delay=chunk_delay
    )


def reply_tool_use(
    name: str,
    input: dict[str, Any] | str,
    id: str | None = None,
    *,
    text: str | None = None,
    usage: dict[str, int] | None = None,
) -> AssistantReply:
    blocks = ([text_block(text)] if text else []) + [tool_use_block(name, input, id)]
    return reply(*blocks, stop_reason="tool_use", usage=usage)


def error(
    status: int,
    message: str | None = None,
    *,
    type: str | None = None,
    retry_after: float | None = None,
    retry_after_ms: float | None = None,
) -> HttpError:
    default_type, default_message = ERROR_TYPES.get(status, ("api_error", "Error"))
    body = {
        "type": "error",
        "error": {"type": type or default_type, "message": message or default_message},
        "request_id": f"req_{uuid.uuid4().hex[:24]}",
    }
    headers = {"request-id": str(body["request_id"]), **retry_headers(retry_after, retry_after_ms)}
    return HttpError(status, body, headers)


def stream_error(
    type: str = "overloaded_error", message: str = "Overloaded", *, after_text: str | None = None
) -> StreamError:
    return StreamError(type, message, after_text)


def _default_usage(blocks: tuple[dict[str, Any], ...]) -> dict[str, int]:
    chars = sum(len(b.get("text", "")) + len(json.dumps(b.get("input", ""))) for b in blocks)
    return usage(output_tokens=max(1, chars // 4))


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


class FakeAnthropicServer(ScriptedServer):
    """Anthropic's `POST /v1/messages` on 127.0.0.1; `base_url` is what the SDK takes."""

    server_name = "FakeAnthropicServer"
    base_path = ""

    def __init__(self, *, api_key: str | None = None, cache: PromptCache | None = None) -> None:
        super().__init__(api_key=api_key)
        self.cache = cache
        self.cache_usage: list[CacheUsage] = []

    def __enter__(self) -> FakeAnthropicServer:
        self.start()
        return self

    def presented_key(self, headers: dict[str, str]) -> str | None:
        """The key as `x-api-key`, or as `Authorization: Bearer` (how SDK 2.x sends an API key)."""
        if "x-api-key" in headers:
            return headers["x-api-key"]
        value = headers.get("authorization", "")
        return value[7:] if value.lower().startswith("bearer ") else None

    def auth_error(self) -> HttpError:
        return error(401)

    def no_reply_error(self, message: str) -> HttpError:
        return error(400, message)

    def default_reply(self) -> AssistantReply:
        return reply_text("(late reply)")

    def validate(self, record: RecordedRequest) -> HttpError | None:
        if record.method != "POST" or record.path.split("?")[0] != "/v1/messages":
            return error(404, f"Not found: {record.method} {record.path}")
        body = record.body
        if body is None:
            return error(400, "request body must be a JSON object")
        for name in ("model", "max_tokens", "messages"):
            if name not in body:
                return error(400, f"{name}: Field required")
        return _check_messages(body)

    def write_reply(self, writer: Writer, record: RecordedRequest, reply: Any, stop: threading.Event) -> None:
        body = record.body or {}
        model = str(body.get("model", "claude-fake"))
        if isinstance(reply, StreamError):
            writer.sse(_error_stream(reply, model), stop=stop)
            return
        if not isinstance(reply, AssistantReply):
            raise TypeError(f"not an Anthropic reply: {reply!r}")
        if self.cache is not None:
            cached = self.cache.usage(body)
            self.cache_usage.append(cached)
            reply = replace(reply, usage={**reply.usage, **vars(cached)})
        if body.get("stream"):
            writer.sse(_message_stream(reply, model), chunk_delay=reply.chunk_delay, stop=stop)
        else:
            writer.json(200, _message_json(reply, model), {"request-id": f"req_{uuid.uuid4().hex[:24]}"})


def _check_messages(body: dict[str, Any]) -> HttpError | None:
    """The request errors the real API gives for a badly converted conversation."""
    messages = body["messages"]
    breakpoints = sum(1 for t in body.get("tools") or [] if "cache_control" in t)
    system = body.get("system")
    if isinstance(system, list):
        breakpoints += sum(1 for b in system if "cache_control" in b)
    for i, message in enumerate(messages):
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        breakpoints += sum(1 for b in blocks if "cache_control" in b)
        for j, block in enumerate(blocks):
            if block.get("type") == "text" and not block.get("text"):
                return error(400, f"messages.{i}.content.{j}.text: text content blocks must be non-empty")
        if message.get("role") == "assistant":
            wanted = [b["id"] for b in blocks if b.get("type") == "tool_use"]
            following = messages[i + 1]["content"] if i + 1 < len(messages) else []
            answered = {b.get("tool_use_id") for b in following if isinstance(b, dict)}
            missing = [t for t in wanted if t not in answered]
            if missing and i + 1 < len(messages):
                return error(
                    400,
                    f"messages.{i + 1}: `tool_use` ids were found without `tool_result` blocks "
                    f"immediately after: {', '.join(missing)}",
                )
        elif message.get("role") == "user":
            results = [b["tool_use_id"] for b in blocks if b.get("type") == "tool_result"]
            previous = messages[i - 1]["content"] if i > 0 else []
            asked = {b.get("id") for b in previous if isinstance(b, dict) and b.get("type") == "tool_use"}
            unexpected = [t for t in results if t not in asked]
            if unexpected:
                return error(
                    400,
                    f"messages.{i}.content: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{', '.join(unexpected)}. Each `tool_result` block must have a corresponding "
                    "`tool_use` block in the previous message.",
                )
        else:
            return error(400, f"messages.{i}.role: Input should be 'user' or 'assistant'")
    if breakpoints > 4:
        return error(400, f"A maximum of 4 blocks with cache_control may be provided. Found {breakpoints}.")
    return None


def _message_json(reply: AssistantReply, model: str) -> dict[str, Any]:
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": list(reply.content),
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": reply.usage,
    }


def _start_event(model: str, reply_usage: dict[str, int]) -> bytes:
    start_usage = {**reply_usage, "output_tokens": 1}
    message: dict[str, Any] = {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    return _event("message_start", {"type": "message_start", "message": message})


def _message_stream(reply: AssistantReply, model: str) -> Iterator[bytes]:
    yield _start_event(model, reply.usage)
    yield _event("ping", {"type": "ping"})
    for index, block in enumerate(reply.content):
        kind = block["type"]
        if kind == "text":
            start: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": t} for t in split_text(block["text"], reply.chunk_size)]
        elif kind == "tool_use":
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            raw = block["input"] if isinstance(block["input"], str) else json.dumps(block["input"])
            deltas = [{"type": "input_json_delta", "partial_json": ""}] + [
                {"type": "input_json_delta", "partial_json": p} for p in split_text(raw, 7)
            ]
        elif kind == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": t} for t in split_text(block["thinking"], 16)]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        else:
            raise ValueError(f"the fake cannot stream a {kind!r} block")
        yield _event(
            "content_block_start", {"type": "content_block_start", "index": index, "content_block": start}
        )
        for delta in deltas:
            yield _event(
                "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
            )
        yield _event("content_block_stop", {"type": "content_block_stop", "index": index})
    # input and cache counts come in message_start; message_delta carries the final output count
    final_usage = {"output_tokens": reply.usage["output_tokens"]}
    yield _event(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
            "usage": final_usage,
        },
    )
    yield _event("message_stop", {"type": "message_stop"})


def _error_stream(failure: StreamError, model: str) -> Iterator[bytes]:
    yield _start_event(model, usage())
    if failure.after_text:
        yield _event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        )
        yield _event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": failure.after_text},
            },
        )
    yield _event("error", {"type": "error", "error": {"type": failure.type, "message": failure.message}})
