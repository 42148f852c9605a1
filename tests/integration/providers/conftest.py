"""Providers wired to the fake servers with small timeouts and retry waits, so failures are fast."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.providers.anthropic_provider import AnthropicProvider
from app.providers.openai_provider import OpenAIProvider
from tests.fakes.anthropic_server import FakeAnthropicServer
from tests.fakes.fixtures import anthropic_server, openai_server  # noqa: F401
from tests.fakes.openai_server import FakeOpenAIServer


@pytest.fixture
def make_claude(request: pytest.FixtureRequest) -> Iterator[Callable[..., AnthropicProvider]]:
    """Build AnthropicProviders pointed at this test's `anthropic_server`."""
    server: FakeAnthropicServer = request.getfixturevalue("anthropic_server")
    made: list[AnthropicProvider] = []

    def make(**overrides: Any) -> AnthropicProvider:
        options: dict[str, Any] = {
            "timeout_s": 5.0,
            "max_retries": 2,
            "max_tokens": 2048,
            "retry_backoff_s": 0.01,
        }
        options.update(overrides)
        provider = AnthropicProvider("test-key", "claude-sonnet-5-5", server.base_url, **options)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


@pytest.fixture
def make_openai(request: pytest.FixtureRequest) -> Iterator[Callable[..., OpenAIProvider]]:
    """Build OpenAIProviders pointed at this test's `openai_server`."""
    server: FakeOpenAIServer = request.getfixturevalue("openai_server")
    made: list[OpenAIProvider] = []

    def make(**overrides: Any) -> OpenAIProvider:
        options: dict[str, Any] = {
            "timeout_s": 5.0,
            "max_retries": 2,
            "max_tokens": 2048,
            "retry_backoff_s": 0.01,
        }
        options.update(overrides)
        provider = OpenAIProvider("test-key", "qwen3:8b", server.base_url, **options)
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()
