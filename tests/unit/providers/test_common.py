"""Retrying a stream only while nothing was shown, and reading a model's tool arguments."""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from app.providers._common import backoff_delay, parse_tool_arguments, stream_with_retries


class Flaky(Exception):
    pass


class Attempts:
    """Scripted attempts: each is a list of items, ending in an exception or not."""

    def __init__(self, *scripts: list[object]) -> None:
        self.scripts = list(scripts)
        self.started = 0
        self.closed = 0

    def start(self) -> Iterator[object]:
        script = self.scripts[self.started]
        self.started += 1

        def run() -> Iterator[object]:
            try:
                for item in script:
                    if isinstance(item, Exception):
                        raise item
                    yield item
            finally:
                self.closed += 1

        return run()


def run(attempts: Attempts, max_retries: int = 2) -> list[object]:
    sleeps: list[float] = []
    out = list(
        stream_with_retries(
            attempts.start,
            retryable=lambda e: isinstance(e, Flaky),
            max_retries=max_retries,
            backoff_s=0.5,
            sleep=sleeps.append,
        )
    )
    assert len(sleeps) == attempts.started - 1
    return out


def test_failure_before_any_item_starts_over() -> None:
    attempts = Attempts([Flaky()], [Flaky()], ["a", "b"])
    assert run(attempts) == ["a", "b"]
    assert attempts.started == 3 and attempts.closed == 3


def test_failure_after_an_item_is_raised_not_retried() -> None:
    attempts = Attempts(["a", Flaky()], ["never"])
    with pytest.raises(Flaky):
        run(attempts)
    assert attempts.started == 1


def test_non_retryable_failure_is_raised_at_once() -> None:
    attempts = Attempts([ValueError("bad request")], ["never"])
    with pytest.raises(ValueError):
        run(attempts)
    assert attempts.started == 1


def test_retries_are_bounded() -> None:
    attempts = Attempts([Flaky()], [Flaky()], [Flaky()], ["too late"])
    with pytest.raises(Flaky):
        run(attempts, max_retries=2)
    assert attempts.started == 3


def test_closing_early_closes_the_current_attempt() -> None:
    attempts = Attempts(["a", "b", "c"])
    stream = stream_with_retries(attempts.start, retryable=lambda e: True, max_retries=2, backoff_s=0)
    assert next(stream) == "a"
    assert isinstance(stream, Generator)  # closable: the consumer may stop early
    stream.close()
    assert attempts.closed == 1


def test_backoff_grows_and_is_capped() -> None:
    assert 0.375 <= backoff_delay(1, 0.5) <= 0.5
    assert 0.75 <= backoff_delay(2, 0.5) <= 1.0
    assert backoff_delay(20, 0.5) <= 8.0


@pytest.mark.parametrize(
    ("raw", "expected", "problem"),
    [
        ('{"name": "Python"}', {"name": "Python"}, None),
        ("", {}, None),
        ("  ", {}, None),
        ('{"name": "Pyth', {}, "not valid JSON"),
        ("[1, 2]", {}, "got list"),
        ("null", {}, "got NoneType"),
        ('"text"', {}, "got str"),
    ],
)
def test_tool_arguments(raw: str, expected: dict[str, object], problem: str | None) -> None:
    value, error = parse_tool_arguments(raw)
    assert value == expected
    if problem is None:
        assert error is None
    else:
        assert error is not None and problem in error


def test_long_bad_arguments_are_quoted_shortened() -> None:
    _, error = parse_tool_arguments("{" + "x" * 1000)
    assert error is not None and error.endswith("...") and len(error) < 400
