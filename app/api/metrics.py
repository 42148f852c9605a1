"""Prometheus metrics of the assistant, named after the OpenTelemetry GenAI conventions where one
applies (semantic conventions v1.37, status Development): `gen_ai_client_token_usage` by
`gen_ai_token_type`, `gen_ai_client_operation_duration_seconds`, with `gen_ai_provider_name`,
`gen_ai_request_model` and `gen_ai_operation_name` as labels (Prometheus has no dots in names).

Token types: `input` counts what was sent to the model, cache reads and writes included (the
convention's input), and `cache_read` / `cache_creation` are reported beside it; a cache write is
never counted twice. The figures come from this process's own turn events (not ones bridged in
from other workers); with several workers, PROMETHEUS_MULTIPROC_DIR makes /metrics add them up.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from app.conversation.bus import EventBus

GEN_AI = ("gen_ai_provider_name", "gen_ai_request_model")
TOKEN_BUCKETS = (16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576)
SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)


class Metrics:
    def __init__(self, bus: EventBus, registry: CollectorRegistry | None = None) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = registry or CollectorRegistry()
        r = None if self.multiprocess else self.registry  # multiprocess: values go to files, read on scrape
        self.turns = Counter(
            "assistant_turns", "Turns by kind and how they ended", ["kind", "stop"], registry=r
        )
        self.turn_seconds = Histogram(
            "assistant_turn_duration_seconds", "Wall time of a turn", ["kind"], buckets=SECONDS, registry=r
        )
        self.ttft = Histogram(
            "assistant_time_to_first_token_seconds",
            "From a turn's start to its first streamed text",
            buckets=SECONDS,
            registry=r,
        )
        self.tokens = Histogram(
            "gen_ai_client_token_usage",
            "Tokens of one model call, by type",
            [*GEN_AI, "gen_ai_operation_name", "gen_ai_token_type"],
            buckets=TOKEN_BUCKETS,
            registry=r,
        )
        self.call_seconds = Histogram(
            "gen_ai_client_operation_duration_seconds",
            "Duration of one model call",
            [*GEN_AI, "gen_ai_operation_name"],
            buckets=SECONDS,
            registry=r,
        )
        self.cost = Counter(
            "assistant_cost_usd", "Dollars spent on priced model calls", list(GEN_AI), registry=r
        )
        self.unpriced = Counter(
            "assistant_unpriced_calls", "Model calls without a price (cost unknown)", list(GEN_AI), registry=r
        )
        self.actions = Counter(
            "assistant_actions",
            "Actions by outcome (proposed, succeeded, failed, rejected)",
            ["tool", "outcome"],
            registry=r,
        )
        self.errors = Counter("assistant_errors", "Errors shown to users, by code", ["code"], registry=r)
        self.sockets = Gauge("assistant_open_websockets", "WebSocket connections open now", registry=r,
                             **({"multiprocess_mode": "livesum"} if self.multiprocess else {}))  # type: ignore[arg-type]  # fmt: skip
        self._started: dict[str, tuple[float, str]] = {}
        self._first_text: set[str] = set()
        self._lock = threading.Lock()
        bus.subscribe_local(self.observe)

    def observe(self, event: dict[str, Any]) -> None:
        kind, turn = event.get("type"), str(event.get("turn_id") or "")
        if kind == "turn_started":
            with self._lock:
                self._started[turn] = (time.monotonic(), str(event.get("kind") or "message"))
        elif kind == "text_delta":
            with self._lock:
                started = self._started.get(turn)
                first = started is not None and turn not in self._first_text
                if first:
                    self._first_text.add(turn)
            if first and started is not None:
                self.ttft.observe(time.monotonic() - started[0])
        elif kind == "usage":
            labels = (str(event.get("provider")), str(event.get("model")))
            sent = sum(
                int(event.get(k) or 0) for k in ("input_tokens", "cache_read_tokens", "cache_write_tokens")
            )
            for token_type, value in (("input", sent), ("output", event.get("output_tokens")),
                                      ("cache_read", event.get("cache_read_tokens")), ("cache_creation", event.get("cache_write_tokens"))):  # fmt: skip
                if token_type in ("input", "output") or value:
                    self.tokens.labels(*labels, "chat", token_type).observe(int(value or 0))
            self.call_seconds.labels(*labels, "chat").observe(float(event.get("latency_ms") or 0) / 1000)
            cost = event.get("cost_usd")
            if cost is None:
                self.unpriced.labels(*labels).inc()
            elif cost > 0:
                self.cost.labels(*labels).inc(float(cost))
        elif kind == "action_proposed":
            self.actions.labels(str(event.get("tool")), "proposed").inc()
        elif kind == "action_executed":
            outcome = (
                "succeeded"
                if event.get("ok")
                else ("rejected" if event.get("status") == "rejected" else "failed")
            )
            self.actions.labels(str(event.get("tool")), outcome).inc()
        elif kind == "error":
            self.errors.labels(str(event.get("code") or "error")).inc()
        elif kind == "done":
            with self._lock:
                started = self._started.pop(turn, None)
                self._first_text.discard(turn)
            turn_kind = started[1] if started else "message"
            self.turns.labels(turn_kind, str(event.get("stop") or "end_turn")).inc()
            latency = (event.get("usage") or {}).get("latency_ms")
            if latency is not None:
                self.turn_seconds.labels(turn_kind).observe(float(latency) / 1000)

    def exposition(self) -> bytes:
        if self.multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)
