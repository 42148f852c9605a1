"""Turn events into the WebSocket frames the platform's clients read.

Two client dialects exist and both get the same frames:
- the design note's `AIAssistant` class reads `thinking`, `response` (the whole answer) and
  `action_executed` (`action`, `result`);
- the platform front end's `GlobalAIAssistant` reads `connected` (`conversation_id`), `thinking`,
  `response` (`content`, and after an action `function_call` and `action_success`), `error`
  (`content`) and `history_cleared`.
Both ignore types and fields they do not know, so the frames for streaming and approvals are added
beside those: `turn_started`, `response_delta`, `context`, `tool_used`, `action_proposed`, `usage`,
`done`. Every frame carries the conversation id, turn id and sequence number of the event it came
from, which is what a reconnecting client sends back to resume.
"""

from __future__ import annotations

from typing import Any

SERVER_FRAMES = (
    "connected", "turn_started", "thinking", "context", "response_delta", "tool_used", "action_proposed",
    "action_executed", "usage", "error", "response", "done", "history_cleared", "pong", "resumed",
)  # fmt: skip


def _base(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "conversation_id": event.get("conversation_id"),
        "turn_id": event.get("turn_id"),
        "seq": event.get("seq"),
    }


def _chunk(chunk: dict[str, Any]) -> dict[str, Any]:
    return {
        "cite": chunk.get("cite"),
        "path": chunk.get("path"),
        "start_line": chunk.get("start_line"),
        "end_line": chunk.get("end_line"),
        "symbol": chunk.get("symbol") or "",
        "route": (chunk.get("metadata") or {}).get("route"),
        "kind": chunk.get("kind"),
        "scores": chunk.get("scores") or {},
        "text": chunk.get("text", ""),
    }


class FrameWriter:
    """Per connection: remembers each turn's streamed text and outcomes to write its `response`."""

    def __init__(self) -> None:
        self._text: dict[str, str] = {}
        self._executed: dict[str, dict[str, Any]] = {}

    def frames(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        kind = event.get("type")
        base = _base(event)
        turn = str(event.get("turn_id") or "")
        if kind == "turn_started":
            self._text[turn] = ""
            return [
                {
                    "type": "turn_started",
                    **base,
                    "kind": event.get("kind"),
                    "label": event.get("label"),
                    "number": event.get("number"),
                }
            ]
        if kind == "thinking":
            return [{"type": "thinking", **base, "step": event.get("step", 0)}]
        if kind == "context_retrieved":
            chunks = [_chunk(c) for c in event.get("chunks") or []]
            return [{"type": "context", **base, "query": event.get("query"), "chunks": chunks,
                     "citations": [c for c in chunks if c["cite"]], "latency_ms": event.get("latency_ms"), "warnings": event.get("warnings") or []}]  # fmt: skip
        if kind == "text_delta":
            self._text[turn] = self._text.get(turn, "") + str(event.get("text", ""))
            return [{"type": "response_delta", **base, "content": event.get("text", "")}]
        if kind == "tool_used":
            return [{"type": "tool_used", **base, "tool": event.get("tool"), "arguments": event.get("arguments"),
                     "ok": event.get("ok"), "summary": event.get("summary")}]  # fmt: skip
        if kind == "action_proposed":
            return [{
                "type": "action_proposed", **base, "action_id": event.get("action_id"), "tool": event.get("tool"),
                "preview": event.get("preview"), "arguments": event.get("arguments"), "risk": event.get("risk"),
                "digest": event.get("digest"), "expires_at": event.get("expires_at"),
                "needs_typed_name": bool(event.get("confirm_name")), "confirm_name": event.get("confirm_name"),
                "changes": event.get("changes") or [],
            }]  # fmt: skip
        if kind == "action_executed":
            self._executed[turn] = event
            return [{
                "type": "action_executed", **base, "action_id": event.get("action_id"), "tool": event.get("tool"),
                "ok": event.get("ok"), "status": event.get("status"), "message": event.get("message"),
                "action": event.get("tool"), "result": event.get("message"), "retryable": event.get("retryable"),
            }]  # fmt: skip
        if kind == "usage":
            fields = (
                "provider",
                "model",
                "input_tokens",
                "output_tokens",
                "cache_write_tokens",
                "cache_read_tokens",
                "latency_ms",
                "cost_usd",
            )
            return [{"type": "usage", **base, **{k: event.get(k) for k in fields}}]
        if kind == "error":
            return [{"type": "error", **base, "content": event.get("message"), "code": event.get("code"),
                     "retryable": event.get("retryable")}]  # fmt: skip
        if kind == "done":
            out = []
            text = self._text.pop(turn, "") or str(event.get("text") or "")
            executed = self._executed.pop(turn, None)
            if text.strip():
                response: dict[str, Any] = {
                    "type": "response",
                    **base,
                    "content": text,
                    "stop": event.get("stop"),
                }
                if executed is not None:
                    response["function_call"] = executed.get("tool")
                    response["action_success"] = bool(executed.get("ok"))
                out.append(response)
            out.append({"type": "done", **base, "stop": event.get("stop"), "usage": event.get("usage")})
            return out
        return []
