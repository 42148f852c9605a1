"""Helpers every provider shares: retrying a stream that failed before it said anything,
reading tool-call arguments that a model may have written badly, and the skeleton of the two
providers that stream through a vendor SDK (Anthropic and OpenAI-compatible).

Kept apart from base.py because they are implementation details of the providers, not part of
the protocol the rest of the product sees.
"""

from __future__ import annotations

import json
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Protocol, TypeVar

from app.providers.base import ModelRequest, ModelResponse, ProviderError, StreamItem, TextDelta

T = TypeVar("T")

MAX_BACKOFF_S = 8.0


class MidStreamFailure(Exception):
    """An error after the response started: the SDK did not retry it, so the provider may."""


def backoff_delay(attempt: int, base_s: float) -> float:
    """Exponential backoff with jitter (the SDKs' own formula): base, 2x base, 4x base ... capped."""
    return min(base_s * (2.0 ** (attempt - 1)), MAX_BACKOFF_S) * (1 - 0.25 * random.random())


def stream_with_retries(
    start: Callable[[], Iterator[T]],
    *,
    retryable: Callable[[Exception], bool],
    max_retries: int,
    backoff_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[T]:
    """Yield from `start()`, starting over when it fails retryably before yielding anything.

    The SDKs retry a request only until the response headers arrive; an overload or a timeout in
    the middle of an event stream reaches us as an exception instead. When nothing has been shown
    to the caller yet, starting over is invisible and safe; once text was yielded it is not (the
    user already saw it), so the error goes up. Closing this iterator closes the current attempt,
    which releases its HTTP connection.
    """
    attempt = 0
    while True:
        items = start()
        produced = False
        try:
            for item in items:
                produced = True
                yield item
            return
        except Exception as err:
            if produced or attempt >= max_retries or not retryable(err):
                raise
            attempt += 1
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
        sleep(backoff_delay(attempt, backoff_s))


def parse_tool_arguments(raw: str) -> tuple[dict[str, Any], str | None]:
    """Arguments text -> (input, input_error). Empty text means no arguments.

    A model's arguments that are not a JSON object become `{}` plus an error the turn loop hands
    back to the model, which can then correct itself instead of the turn failing.
    """
    if not raw.strip():
        return {}, None
    try:
        value = json.loads(raw)
    except ValueError as err:
        return {}, f"tool arguments are not valid JSON ({err}): {_snippet(raw)}"
    if not isinstance(value, dict):
        return {}, f"tool arguments must be a JSON object, got {type(value).__name__}: {_snippet(raw)}"
    return value, None


def _snippet(raw: str, limit: int = 200) -> str:
    return raw if len(raw) <= limit else raw[:limit] + "..."


def elapsed_ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


class StreamState(Protocol):
    """Puts one streamed answer back together from the SDK's events."""

    def feed(self, event: Any) -> str | None:
        """Take one event; return any new answer text to show."""

    def unfinished(self) -> str | None:
        """Why the stream is not a complete answer (it ended early), or None when it is."""


class SdkStreamingProvider(ABC):
    """What the Anthropic and OpenAI providers share: the constructor (one SDK client, and so one
    connection pool, per instance), streaming with retries, and turning failures into errors.

    The SDKs retry a request until its response headers arrive (`max_retries`); a failure inside
    an event stream is retried here while nothing was shown (`stream_with_retries`, backoff from
    `retry_backoff_s`, waiting with `sleep`). A subclass says how to build its client and its
    request, open a stream, read its events and describe its errors.
    """

    name: str
    default_base_url: ClassVar[str]
    sdk_errors: ClassVar[tuple[type[Exception], ...]]
    """The SDK's exceptions for a failed request (before any event)."""

    def __init__(
        self,
        api_key: str,
        model: str,
        base_url: str | None = None,
        *,
        timeout_s: float = 60.0,
        max_retries: int = 3,
        max_tokens: int = 4096,
        retry_backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.model = model
        self.base_url = base_url or self.default_base_url
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.max_tokens = max_tokens
        self.retry_backoff_s = retry_backoff_s
        self._sleep = sleep
        self._client = self._make_client(api_key)

    def close(self) -> None:
        self._client.close()

    def stream(self, request: ModelRequest) -> Iterator[StreamItem]:
        params = self._params(request)
        started = time.monotonic()
        shown = False
        try:
            for item in stream_with_retries(
                lambda: self._attempt(params, started),
                retryable=lambda err: isinstance(err, MidStreamFailure) and self._is_retryable(err.__cause__),
                max_retries=self.max_retries,
                backoff_s=self.retry_backoff_s,
                sleep=self._sleep,
            ):
                shown = shown or isinstance(item, TextDelta)
                yield item
        except MidStreamFailure as err:
            note = "midway through the answer" if shown else f"after {self.max_retries} retries"
            raise self._provider_error(err.__cause__, note) from err.__cause__
        except self.sdk_errors as err:
            raise self._provider_error(err, f"after {self.max_retries} retries") from err

    def _attempt(self, params: dict[str, Any], started: float) -> Iterator[StreamItem]:
        """One request: its text as it comes, then the response; any failure once the stream is
        open becomes MidStreamFailure (the SDK will not retry it; `stream` may)."""
        events = self._open(params)
        state = self._new_state()
        try:
            for event in events:
                text = state.feed(event)
                if text:
                    yield TextDelta(text)
            problem = state.unfinished()
            if problem:
                raise ProviderError(problem, retryable=True)
        except Exception as err:
            raise MidStreamFailure(str(err)) from err
        finally:
            events.close()
        yield self._response(state, params, elapsed_ms(started))

    @abstractmethod
    def _make_client(self, api_key: str) -> Any:
        """The SDK client, with this provider's base URL, timeout and retries."""

    @abstractmethod
    def _params(self, request: ModelRequest) -> dict[str, Any]:
        """The SDK call's keyword arguments for a neutral request."""

    @abstractmethod
    def _open(self, params: dict[str, Any]) -> Any:
        """Start a streamed request; an iterable of events with `close()`."""

    @abstractmethod
    def _new_state(self) -> StreamState: ...

    @abstractmethod
    def _response(self, state: Any, params: dict[str, Any], latency_ms: float) -> ModelResponse: ...

    @abstractmethod
    def _is_retryable(self, err: BaseException | None) -> bool: ...

    @abstractmethod
    def _provider_error(self, err: BaseException | None, when: str) -> ProviderError:
        """A clear, actionable error; `when` says when it happened ("after 3 retries")."""
