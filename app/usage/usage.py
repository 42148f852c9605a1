"""Token usage as a value you can add up.

Providers count tokens differently (Anthropic reports cache reads apart from input, OpenAI counts
cached tokens inside the prompt); each provider normalizes into this one shape so that cost and
analytics never need to know which provider answered.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens of one or more model calls. `input_tokens` excludes cache writes and cache reads."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    requests: int = 0
    estimated: bool = False
    """The server reported no usage (some OpenAI-compatible servers, Ollama among them): the
    counts are an estimate from the text's length, shown as one, never silently zero."""

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            requests=self.requests + other.requests,
            estimated=self.estimated or other.estimated,
        )

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_write_tokens + self.cache_read_tokens

    def as_dict(self) -> dict[str, int]:
        """The counts (whether they are estimated is `estimated`)."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "requests": self.requests,
        }
