"""pytest fixtures for the fake LLM servers; import them into a conftest.py to use them:

    from tests.fakes.fixtures import anthropic_server, openai_server  # noqa: F401

Each test gets a fresh server on a free loopback port, closed afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.anthropic_server import FakeAnthropicServer
from tests.fakes.openai_server import FakeOpenAIServer


@pytest.fixture
def anthropic_server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as server:
        yield server


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server
