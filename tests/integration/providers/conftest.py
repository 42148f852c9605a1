"""Providers wired to the fake servers with small timeouts and retry waits, so failures are fast."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from app.providers.anthropic_provider import AnthropicProvider
from app.providers.openai_provider import OpenAIProvider
from tests.fakes.anthropic_server import FakeAnthropicServer
from tests.fakes.fixtures import anthropic_server, openai_server
from tests.fakes.openai_server import FakeOpenAIServer

FAST = {"timeout_s": 5.0, "max_retries": 2, "max_tokens": 2048, "retry_backoff_s": 0.01}
P = TypeVar("P", AnthropicProvider, OpenAIProvider)


def sdk_waits(provider: AnthropicProvider | OpenAIProvider) -> list[float]:
    """Record each wait the provider's SDK client computes before retrying a request (from the
    server's retry-after headers, or its own backoff), so a test checks what the client was told
    instead of timing it. The client still waits for real."""
    client = provider._client
    waits: list[float] = []
    compute = client._calculate_retry_timeout

    def recorded(*args: Any, **kwargs: Any) -> float:
        wait = float(compute(*args, **kwargs))
        waits.append(wait)
        return wait

    client._calculate_retry_timeout = recorded  # type: ignore[method-assign]
    return waits


def _factory(cls: type[P], model: str, base_url: str, made: list[P]) -> Callable[..., P]:
    def make(**overrides: Any) -> P:
        provider = cls("test-key", model, base_url, **{**FAST, **overrides})
        made.append(provider)
        return provider

    return make


@pytest.fixture
def make_claude(request: pytest.FixtureRequest) -> Iterator[Callable[..., AnthropicProvider]]:
    """Build AnthropicProviders pointed at this test's `anthropic_server`."""
    server: FakeAnthropicServer = request.getfixturevalue("anthropic_server")
    made: list[AnthropicProvider] = []
    yield _factory(AnthropicProvider, "claude-sonnet-5-5", server.base_url, made)
    for provider in made:
        provider.close()


@pytest.fixture
def make_openai(request: pytest.FixtureRequest) -> Iterator[Callable[..., OpenAIProvider]]:
    """Build OpenAIProviders pointed at this test's `openai_server`."""
    server: FakeOpenAIServer = request.getfixturevalue("openai_server")
    made: list[OpenAIProvider] = []
    yield _factory(OpenAIProvider, "qwen3:8b", server.base_url, made)
    for provider in made:
        provider.close()
