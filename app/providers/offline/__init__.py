"""The offline provider: no LLM, no network. Questions get extractive answers with citations;
requests go through a deterministic planner that asks for what is missing, resolves names with
the lookup tools and proposes the same pending actions an LLM would."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from app.providers.base import ModelRequest, ModelResponse, StreamItem, TextDelta
from app.providers.offline.planner import plan
from app.usage.usage import Usage

MODEL = "planner-v1"


class OfflineProvider:
    """Implements the Provider protocol with the rule-based planner."""

    name = "offline"
    model = MODEL

    def stream(self, request: ModelRequest) -> Iterator[StreamItem]:
        started = time.perf_counter()
        reply = plan(request)
        for piece in re.findall(r"\S+\s*|\s+", reply.text):
            yield TextDelta(piece)
        yield ModelResponse(
            content=reply.content(),
            stop_reason="tool_use" if reply.calls else "end_turn",
            usage=Usage(requests=1),
            provider=self.name,
            model=self.model,
            latency_ms=(time.perf_counter() - started) * 1000,
            state=reply.state,
        )


def build_offline_provider(settings: Any = None) -> OfflineProvider:
    return OfflineProvider()
