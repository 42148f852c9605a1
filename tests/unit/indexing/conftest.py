"""Shared fixtures for the indexing unit tests: the real tokenizer and a sizer that uses it."""

from __future__ import annotations

import pytest

from indexing.chunk import Sizer
from indexing.tokens import TokenCounter


@pytest.fixture(scope="session")
def counter() -> TokenCounter:
    """all-MiniLM-L6-v2's own tokenizer (loads in a fraction of a second, offline)."""
    return TokenCounter()


@pytest.fixture(scope="session")
def sizer(counter: TokenCounter) -> Sizer:
    return Sizer(counter.count, count_lines=counter.count_lines)
