"""A local stand-in for an OpenAI-compatible chat server, so tests drive the real `openai` SDK.

It speaks `POST /v1/chat/completions`: a `chat.completion` JSON, or with `"stream": true` SSE lines
`data: {chat.completion.chunk}` ending in `data: [DONE]`. Tool calls stream the way OpenAI (and
vLLM) send them: the first delta carries id, type and name, the arguments follow in pieces across
later chunks. The usage chunk (`choices: []`) is sent only when the request asked for it with
`stream_options: {"include_usage": true}`, as the real API does. Errors carry OpenAI's error JSON
(`{"error": {"message", "type", "param", "code"}}`). A conversation the real API would refuse (an
assistant `tool_calls` message not followed by a `tool` message for each id) gets the same 400.

Scripting: each request takes the next queued reply.

    from tests.fakes.openai_server import FakeOpenAIServer, reply_text, reply_tool_use, error, delay

    with FakeOpenAIServer() as server:
        server.enqueue(
            error(429, retry_after_ms=10),
            reply_tool_use("create_track", '{"name": "Python'),   # a str is sent as-is: malformed
            reply_text("Done.", usage=usage(prompt_tokens=120, completion_tokens=3, cached_tokens=100)),
        )
        client = openai.OpenAI(api_key="test", base_url=server.base_url)   # base_url ends in /v1

Replies:
- `reply_text(text, finish_reason="stop", usage=None, chunk_size=8, chunk_delay=0.0)`;
  `dataclasses.replace(reply, sends_usage=False)` answers without any usage, as Ollama does
- `reply_tool_use(name, arguments, id=None, text=None, usage=None)`: arguments a dict or raw str
- `reply(text=None, tool_calls=(tool_call(name, arguments, id), ...), finish_reason=None, usage=None)`
- `error(status, message=None, type=None, code=None, retry_after=None, retry_after_ms=None)`
- `stream_error(message)`: a 200 stream carrying `data: {"error": ...}` midway
- `delay(seconds, then=None)`: hold the answer (client timeout), then send `then`
- a callable `f(body) -> reply` decides from the request.
`FakeOpenAIServer(api_key="k")` answers 401 to any other bearer key. `server.requests` holds each
request's method, path, lower-cased headers and JSON body.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.fakes._server import (
    Delay,
    HttpError,
    RecordedRequest,
    ScriptedServer,
    Writer,
    delay,
    now,
    retry_headers,
    split_text,
)

__all__ = [
    "ChatReply",
    "Delay",
    "FakeOpenAIServer",
    "HttpError",
    "StreamError",
    "ToolCall",
    "delay",
    "error",
    "reply",
    "reply_text",
    "reply_tool_use",
    "stream_error",
    "tool_call",
    "usage",
]

ERRORS = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
    404: (
        "invalid_request_error",
        "model_not_found",
        "The model does not exist or you do not have access to it.",
    ),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


def usage(prompt_tokens: int = 25, completion_tokens: int = 10, cached_tokens: int = 0) -> dict[str, Any]:
    """OpenAI's usage object: `prompt_tokens` includes the cached ones."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: str  # raw JSON text, as the model wrote it (may be malformed on purpose)
    id: str


@dataclass(frozen=True)
class ChatReply:
    text: str | None
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str = "stop"
    usage: dict[str, Any] = field(default_factory=usage)
    chunk_size: int = 8
    chunk_delay: float = 0.0
    sends_usage: bool = True  # False: like Ollama, no usage even when asked


@dataclass(frozen=True)
class StreamError:
    message: str = "The server had an error while processing your request."
    type: str = "server_error"


def tool_call(name: str, arguments: dict[str, Any] | str, id: str | None = None) -> ToolCall:
    """A tool call; a str `arguments` is sent verbatim (to script broken JSON), id "" sends none."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return ToolCall(name, raw, f"call_{uuid.uuid4().hex[:24]}" if id is None else id)


def reply(
    text: str | None = None,
    tool_calls: Sequence[ToolCall] = (),
    *,
    finish_reason: str | None = None,
    usage: dict[str, Any] | None = None,
    chunk_size: int = 8,
    chunk_delay: float = 0.0,
) -> ChatReply:
    reason = finish_reason or ("tool_calls" if tool_calls else "stop")
    chars = len(text or "") + sum(len(c.arguments) for c in tool_calls)
    return ChatReply(
        text,
        tuple(tool_calls),
        reason,
        usage or _usage(completion_tokens=max(1, chars // 4)),
        chunk_size,
        chunk_delay,
    )


def reply_text(
    text: str,
    *,
    finish_reason: str = "stop",
    usage: dict[str, Any] | None = None,
    chunk_size: int = 8,
    chunk_delay: float = 0.0,
) -> ChatReply:
    return reply(
        text, finish_reason=finish_reason, usage=usage, chunk_size=chunk_size, chunk_delay=chunk_delay
    )


def reply_tool_use(
    name: str,
    arguments: dict[str, Any] | str,
    id: str | None = None,
    *,
    text: str | None = None,
    usage: dict[str, Any] | None = None,
) -> ChatReply:
    return reply(text, [tool_call(name, arguments, id)], usage=usage)


def error(
    status: int,
    message: str | None = None,
    *,
    type: str | None = None,
    code: str | None = None,
    retry_after: float | None = None,
    retry_after_ms: float | None = None,
) -> HttpError:
    default_type, default_code, default_message = ERRORS.get(status, ("server_error", None, "Error"))
    body = {
        "error": {
            "message": message or default_message,
            "type": type or default_type,
            "param": None,
            "code": code or default_code,
        }
    }
    return HttpError(
        status,
        body,
        {"x-request-id": f"req_{uuid.uuid4().hex}", **retry_headers(retry_after, retry_after_ms)},
    )


def stream_error(message: str = "The server had an error while processing your request.") -> StreamError:
    return StreamError(message)


_usage = usage


class FakeOpenAIServer(ScriptedServer):
    """OpenAI's `POST /v1/chat/completions` on 127.0.0.1; `base_url` (ending in /v1) is what the SDK takes."""

    server_name = "FakeOpenAIServer"
    base_path = "/v1"
    api_key_header = "authorization"

    def __enter__(self) -> FakeOpenAIServer:
        self.start()
        return self

    def auth_error(self) -> HttpError:
        return error(401)

    def no_reply_error(self, message: str) -> HttpError:
        return error(400, message)

    def default_reply(self) -> ChatReply:
        return reply_text("(late reply)")

    def validate(self, record: RecordedRequest) -> HttpError | None:
        if record.method != "POST" or record.path.split("?")[0] != "/v1/chat/completions":
            return error(404, f"Unknown request URL: {record.method} {record.path}", code="unknown_url")
        body = record.body
        if body is None:
            return error(400, "We could not parse the JSON body of your request.")
        for name in ("model", "messages"):
            if name not in body:
                return error(400, f"Missing required parameter: '{name}'.", code="missing_required_parameter")
        return _check_messages(body["messages"])

    def write_reply(self, writer: Writer, record: RecordedRequest, reply: Any, stop: threading.Event) -> None:
        body = record.body or {}
        model = str(body.get("model", "gpt-fake"))
        if isinstance(reply, StreamError):
            error_event = {
                "error": {"message": reply.message, "type": reply.type, "param": None, "code": None}
            }
            writer.sse(
                [_data(_chunk(model, {"role": "assistant", "content": ""})), _data(error_event)], stop=stop
            )
            return
        if not isinstance(reply, ChatReply):
            raise TypeError(f"not an OpenAI reply: {reply!r}")
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            writer.sse(_chunks(reply, model, include_usage), chunk_delay=reply.chunk_delay, stop=stop)
        else:
            writer.json(200, _completion(reply, model))


def _check_messages(messages: list[dict[str, Any]]) -> HttpError | None:
    for i, message in enumerate(messages):
        role = message.get("role")
        if role == "assistant" and message.get("tool_calls"):
            ids = [c["id"] for c in message["tool_calls"]]
            answered = set()
            for later in messages[i + 1 :]:
                if later.get("role") != "tool":
                    break
                answered.add(later.get("tool_call_id"))
            missing = [t for t in ids if t not in answered]
            if missing and i + 1 < len(messages):
                return error(
                    400,
                    "An assistant message with 'tool_calls' must be followed by tool messages responding to "
                    f"each 'tool_call_id'. The following tool_call_ids did not have response messages: "
                    f"{', '.join(missing)}",
                )
        if role == "tool":
            j = i - 1
            while j >= 0 and messages[j].get("role") == "tool":
                j -= 1
            if j < 0 or not messages[j].get("tool_calls"):
                return error(
                    400,
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                    "message with 'tool_calls'.",
                )
        if role not in ("system", "developer", "user", "assistant", "tool"):
            return error(
                400, f"Invalid value: '{role}'. Supported values are: 'system', 'user', 'assistant', 'tool'."
            )
    return None


def _completion(reply: ChatReply, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text, "refusal": None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in reply.tool_calls
        ]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": now(),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish_reason}],
        "usage": reply.usage,
        "system_fingerprint": None,
    }


def _chunk(
    model: str, delta: dict[str, Any], finish_reason: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": now(),
        "model": model,
        "system_fingerprint": None,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        **extra,
    }


def _data(obj: dict[str, Any] | str) -> bytes:
    return f"data: {obj if isinstance(obj, str) else json.dumps(obj)}\n\n".encode()


def _chunks(reply: ChatReply, model: str, include_usage: bool) -> Iterator[bytes]:
    null_usage = {"usage": None} if include_usage else {}
    yield _data(_chunk(model, {"role": "assistant", "content": "", "refusal": None}, **null_usage))
    if reply.text:
        for piece in split_text(reply.text, reply.chunk_size):
            yield _data(_chunk(model, {"content": piece}, **null_usage))
    for index, call in enumerate(reply.tool_calls):
        first = {"index": index, "type": "function", "function": {"name": call.name, "arguments": ""}}
        if call.id:
            first["id"] = call.id
        yield _data(_chunk(model, {"tool_calls": [first]}, **null_usage))
        for piece in split_text(call.arguments, 6):
            yield _data(
                _chunk(
                    model, {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}, **null_usage
                )
            )
    yield _data(_chunk(model, {}, reply.finish_reason, **null_usage))
    if include_usage and reply.sends_usage:
        final = _chunk(model, {}, usage=reply.usage)
        final["choices"] = []
        yield _data(final)
    yield _data("[DONE]")
