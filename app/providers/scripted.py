"""A scripted stand-in for an LLM, registered beside the real providers (in the style of the
`MockModel.enqueue` of simonw/llm and the `FunctionModel` of pydantic-ai).

Conversation tests need a model whose every move is known: answer this, then call that tool,
then fail. The script is a queue; each `stream` call takes the next item, records the request it
was given (so a test can assert what the model was shown), streams text in several deltas like a
real provider, and reports a deterministic Usage so cost code can be tested. When the script runs
out it raises `ScriptExhausted`, which is deliberately not a ProviderError: an under-scripted test
must fail loudly, not be handled as a provider outage.

    provider = ScriptedProvider()
    provider.enqueue(
        tool_reply("list_projects", {}),
        "You have two projects.",                          # a str is a plain text answer
        ProviderError("overloaded", retryable=True),       # raised instead of answering
        lambda request: text_reply(f"{len(request.messages)} messages"),  # decided per request
    )
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from app.providers._common import elapsed_ms
from app.providers.base import (
    ContentBlock,
    ModelRequest,
    ModelResponse,
    ProviderError,
    StopReason,
    StreamItem,
    TextBlock,
    TextDelta,
    ToolUseBlock,
    block_to_dict,
)
from app.usage.usage import Usage


class ScriptExhausted(RuntimeError):
    """The scripted provider was called more often than the test scripted."""


@dataclass(frozen=True, slots=True)
class ScriptedReply:
    """One scripted model answer. `usage` None means: estimate it (4 characters a token)."""

    content: tuple[ContentBlock, ...]
    stop_reason: StopReason = "end_turn"
    usage: Usage | None = None


ScriptItem = str | ScriptedReply | ProviderError | Callable[[ModelRequest], Any]


def text_reply(
    text: str, *, usage: Usage | None = None, stop_reason: StopReason = "end_turn"
) -> ScriptedReply:
    return ScriptedReply((TextBlock(text),), stop_reason, usage)


def tool_reply(
    name: str,
    input: dict[str, Any] | None = None,
    *,
    id: str | None = None,
    text: str = "",
    input_error: str | None = None,
    usage: Usage | None = None,
) -> ScriptedReply:
    """A tool call (optionally after some text); `input_error` scripts a malformed call."""
    call = ToolUseBlock(id or f"call_{uuid.uuid4().hex[:12]}", name, dict(input or {}), input_error)
    blocks: tuple[ContentBlock, ...] = ((TextBlock(text),) if text else ()) + (call,)
    return ScriptedReply(blocks, "tool_use", usage)


class ScriptedProvider:
    """`Provider` that replays a script. Thread-safe; `requests` lists every request received."""

    name = "scripted"

    def __init__(self, model: str = "scripted-model", *, script: tuple[ScriptItem, ...] = ()) -> None:
        self.model = model
        self.requests: list[ModelRequest] = []
        self._script: deque[ScriptItem] = deque(script)
        self._lock = threading.Lock()

    def enqueue(self, *items: ScriptItem) -> ScriptedProvider:
        with self._lock:
            self._script.extend(items)
        return self

    def enqueue_text(self, text: str, *, usage: Usage | None = None) -> ScriptedProvider:
        return self.enqueue(text_reply(text, usage=usage))

    def enqueue_tool_call(
        self, name: str, input: dict[str, Any] | None = None, *, id: str | None = None, text: str = ""
    ) -> ScriptedProvider:
        return self.enqueue(tool_reply(name, input, id=id, text=text))

    def enqueue_error(
        self, message: str = "scripted failure", *, retryable: bool = False, status: int | None = None
    ) -> ScriptedProvider:
        return self.enqueue(ProviderError(message, retryable=retryable, status=status))

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._script)

    @property
    def last_request(self) -> ModelRequest:
        if not self.requests:
            raise ScriptExhausted("the scripted provider has not been called yet")
        return self.requests[-1]

    def stream(self, request: ModelRequest) -> Iterator[StreamItem]:
        started = time.monotonic()
        with self._lock:
            self.requests.append(request)
            item = self._script.popleft() if self._script else None
            count = len(self.requests)
        if item is None:
            last = request.messages[-1].to_dict() if request.messages else None
            raise ScriptExhausted(
                f"ScriptedProvider has no reply left for request #{count} "
                f"({count - 1} scripted replies were used); last message: {last}"
            )
        reply = _resolve(item, request)
        for block in reply.content:
            if isinstance(block, TextBlock):
                for piece in split_words(block.text):
                    yield TextDelta(piece)
        yield ModelResponse(
            content=reply.content,
            stop_reason=reply.stop_reason,
            usage=reply.usage or estimate_usage(request, reply.content),
            provider=self.name,
            model=self.model,
            latency_ms=elapsed_ms(started),
        )


def _resolve(item: ScriptItem, request: ModelRequest) -> ScriptedReply:
    if isinstance(item, ProviderError):
        raise item
    if isinstance(item, str):
        return text_reply(item)
    if isinstance(item, ScriptedReply):
        return item
    result = item(request)
    if isinstance(result, (str, ScriptedReply, ProviderError)):
        return _resolve(result, request)
    raise TypeError(f"a script function must return str, ScriptedReply or ProviderError, got {result!r}")


def split_words(text: str) -> list[str]:
    """Each word with its trailing space: several deltas, as a real stream would send."""
    return re.findall(r"\s*\S+\s*", text) or ([text] if text else [])


def estimate_usage(request: ModelRequest, content: tuple[ContentBlock, ...]) -> Usage:
    """Deterministic token counts (4 characters a token) so cost code has numbers to check."""
    prompt_chars = len(request.system) + sum(len(str(m.to_dict())) for m in request.messages)
    prompt_chars += sum(len(t.name) + len(t.description) + len(str(t.input_schema)) for t in request.tools)
    output_chars = sum(
        len(b.text) if isinstance(b, TextBlock) else len(json.dumps(block_to_dict(b))) for b in content
    )
    return Usage(input_tokens=max(1, prompt_chars // 4), output_tokens=max(1, output_chars // 4), requests=1)
