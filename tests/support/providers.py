"""Providers the engine's and the service's tests share (the scripted one lives in app/providers)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from app.providers.base import ModelRequest, ModelResponse, StreamItem, TextBlock, TextDelta
from app.usage.usage import Usage


@dataclass
class GatedProvider:
    """Streams `before`, then waits for `gate` (or a cancel), then streams `after` and answers."""

    before: list[str]
    after: list[str]
    gate: threading.Event = field(default_factory=threading.Event)
    started: threading.Event = field(default_factory=threading.Event)
    name: str = "gated"
    model: str = "gated-1"

    def stream(self, request: ModelRequest) -> Iterator[StreamItem]:
        for piece in self.before:
            yield TextDelta(piece)
        self.started.set()
        self.gate.wait(10)
        for piece in self.after:
            yield TextDelta(piece)
        text = "".join(self.before + self.after)
        usage = Usage(input_tokens=100, output_tokens=20, requests=1)
        yield ModelResponse((TextBlock(text),), "end_turn", usage, self.name, self.model, 5.0)
