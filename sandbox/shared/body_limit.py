"""Refuse request bodies above `requests.max_body_bytes` (platform.yaml) with 413 `body_too_large`.

Checked before any route runs, both against a declared Content-Length and against the bytes
actually received (a chunked upload has no Content-Length), so an oversized body is never
parsed. The body is buffered (it is at most the limit) and replayed to the app.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.shared.errors import error_response


class BodySizeLimitMiddleware:
    """Pure ASGI middleware; holds the whole (bounded) body before the app reads it."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._reject(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                await self._reject(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, replay_body(bytes(body), receive), send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            f"Request body is larger than the {self.max_body_bytes}-byte limit",
            "body_too_large",
        )
        await response(scope, receive, send)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A `receive` that yields `body` once, then defers to the real one (for disconnects)."""
    sent = False

    async def _receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return _receive


async def read_body(receive: Receive) -> bytes | None:
    """Read a whole request body from `receive`; None if the client disconnected first."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return bytes(body)
