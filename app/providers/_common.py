"""Helpers every provider shares: retrying a stream that failed before it said anything, and
reading tool-call arguments that a model may have written badly.

Kept apart from base.py because they are implementation details of the providers, not part of
the protocol the rest of the product sees.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

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
