"""The one small protocol every LLM provider implements, and the neutral message shapes it speaks.

The turn loop, the store and the UIs only ever see these types; each provider converts them to
and from its own wire format (Anthropic content blocks, OpenAI chat messages, a local model's
chat template). Keeping the shapes provider-neutral is what lets a conversation started offline be
continued by Claude, and lets the scripted fake stand in for any of them in tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from app.tools.spec import ToolSpec
from app.usage.usage import Usage

Role = Literal["user", "assistant"]
StopReason = Literal["end_turn", "tool_use", "max_tokens", "error"]


@dataclass(frozen=True, slots=True)
class TextBlock:
    text: str
    type: Literal["text"] = "text"


@dataclass(frozen=True, slots=True)
class ToolUseBlock:
    """A tool call the model asked for.

    `input` is the parsed arguments. When the model sent arguments that are not a JSON object
    (OpenAI-style providers send a string), `input` is empty and `input_error` says what was wrong,
    so the turn loop can hand the error back to the model instead of failing.
    """

    id: str
    name: str
    input: dict[str, Any]
    input_error: str | None = None
    type: Literal["tool_use"] = "tool_use"


@dataclass(frozen=True, slots=True)
class ToolResultBlock:
    tool_use_id: str
    content: str
    is_error: bool = False
    type: Literal["tool_result"] = "tool_result"


@dataclass(frozen=True, slots=True)
class ThinkingBlock:
    """Reasoning a model did before or between tool calls (Anthropic `thinking` / `redacted_thinking`).

    Current Claude models think by default, and within one tool loop the API requires the assistant
    turn to be sent back exactly as received, thinking blocks included (a 400 error otherwise). So
    the block travels with the conversation even though no UI shows it. `signature` (or, for a
    redacted block, `redacted_data`) is opaque provider data; providers that cannot use a thinking
    block drop it when they convert the conversation.
    """

    thinking: str
    signature: str | None = None
    redacted_data: str | None = None
    type: Literal["thinking"] = "thinking"


ContentBlock = TextBlock | ToolUseBlock | ToolResultBlock | ThinkingBlock


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: tuple[ContentBlock, ...]

    @staticmethod
    def user(text: str) -> Message:
        return Message("user", (TextBlock(text),))

    @staticmethod
    def assistant(text: str) -> Message:
        return Message("assistant", (TextBlock(text),))

    @property
    def text(self) -> str:
        return "".join(b.text for b in self.content if isinstance(b, TextBlock))

    @property
    def tool_uses(self) -> list[ToolUseBlock]:
        return [b for b in self.content if isinstance(b, ToolUseBlock)]

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "content": [block_to_dict(b) for b in self.content]}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Message:
        return Message(data["role"], tuple(block_from_dict(b) for b in data["content"]))


def block_to_dict(block: ContentBlock) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    if isinstance(block, ToolUseBlock):
        out: dict[str, Any] = {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
        if block.input_error:
            out["input_error"] = block.input_error
        return out
    if isinstance(block, ThinkingBlock):
        thinking: dict[str, Any] = {"type": "thinking", "thinking": block.thinking}
        if block.signature is not None:
            thinking["signature"] = block.signature
        if block.redacted_data is not None:
            thinking["redacted_data"] = block.redacted_data
        return thinking
    return {
        "type": "tool_result",
        "tool_use_id": block.tool_use_id,
        "content": block.content,
        "is_error": block.is_error,
    }


def block_from_dict(data: dict[str, Any]) -> ContentBlock:
    kind = data.get("type")
    if kind == "text":
        return TextBlock(str(data["text"]))
    if kind == "tool_use":
        return ToolUseBlock(
            str(data["id"]), str(data["name"]), dict(data.get("input") or {}), data.get("input_error")
        )
    if kind == "tool_result":
        return ToolResultBlock(str(data["tool_use_id"]), str(data["content"]), bool(data.get("is_error")))
    if kind == "thinking":
        return ThinkingBlock(str(data.get("thinking", "")), data.get("signature"), data.get("redacted_data"))
    raise ValueError(f"unknown content block type: {kind!r}")


@dataclass(frozen=True, slots=True)
class ModelRequest:
    system: str
    messages: Sequence[Message]
    tools: Sequence[ToolSpec] = ()
    max_tokens: int = 1024
    temperature: float | None = None
    # Mark the prompt's stable prefix as cacheable (Anthropic prompt caching): the system prompt
    # (with the tools before it) and the conversation's end, as the previous call sent it and now.
    cache_prompt: bool = True
    # Extra, provider-specific hints (the offline planner reads retrieved passages from here).
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of streamed answer text."""

    text: str


@dataclass(frozen=True, slots=True)
class ModelResponse:
    """The complete result of one model call; always the last item a provider's stream yields."""

    content: tuple[ContentBlock, ...]
    stop_reason: StopReason
    usage: Usage
    provider: str
    model: str
    latency_ms: float
    # State a provider wants back on its next call in this conversation (the offline planner's
    # half-filled request). The turn loop stores it with the assistant message and returns it in
    # ModelRequest.metadata["provider_state"]; LLM providers leave it empty.
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(b.text for b in self.content if isinstance(b, TextBlock))

    @property
    def tool_uses(self) -> list[ToolUseBlock]:
        return [b for b in self.content if isinstance(b, ToolUseBlock)]


StreamItem = TextDelta | ModelResponse


class ProviderError(Exception):
    """A model call failed after the provider's own retries.

    `retryable` tells the UI whether trying again later may help (rate limits, overload, timeouts)
    or not (bad key, bad request).
    """

    def __init__(self, message: str, *, retryable: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


@runtime_checkable
class Provider(Protocol):
    """An LLM (or the offline planner) that answers one request.

    `stream` yields TextDelta items as text is produced and ends with exactly one ModelResponse.
    Closing the iterator early (the user cancelled) must release the connection. Failures raise
    ProviderError after the provider's own retries.
    """

    name: str
    model: str

    def stream(self, request: ModelRequest) -> Iterator[StreamItem]: ...


def complete(provider: Provider, request: ModelRequest) -> ModelResponse:
    """Run a request to the end and return only the final response (for non-streaming callers)."""
    final: ModelResponse | None = None
    for item in provider.stream(request):
        if isinstance(item, ModelResponse):
            final = item
    if final is None:
        raise ProviderError(f"{provider.name} ended its stream without a response")
    return final
