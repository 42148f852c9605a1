"""A fault-injecting HTTP proxy in front of the sandbox platform, for failures during execution.

It forwards every request to the platform and records it (method, path, Idempotency-Key). When
armed with `fail(mode, times)`, the next matching POSTs misbehave:

- "500":     answer 500 without forwarding (the platform never saw it);
- "timeout": hold the request past the client's timeout, never forward it;
- "lost":    forward it (the platform does the work), then answer 500: the answer is lost;
- "late":    forward it, then hold the answer past the client's timeout;
- "409":     answer 409 idempotency_key_in_progress, as the platform does while the first
             request with that key is still running.

`off()` switches faults off. The stdlib server keeps it dependency-free; one thread per request.
"""

from __future__ import annotations

import http.client
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

MODES = ("500", "timeout", "lost", "late", "409")


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    idempotency_key: str | None
    fault: str | None


class FaultProxy:
    def __init__(self, target_base_url: str, *, hold_s: float = 2.0, path_prefix: str = "") -> None:
        parts = urlsplit(target_base_url)
        self.target_host = parts.hostname or "127.0.0.1"
        self.target_port = parts.port or 80
        self.api_prefix = parts.path.rstrip("/")
        self.hold_s = hold_s
        self.path_prefix = path_prefix  # only POSTs to paths starting with this (after the API prefix)
        self.seen: list[Seen] = []
        self._mode: str | None = None
        self._times = 0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None

    # --- control --------------------------------------------------------------------------
    def fail(self, mode: str, times: int = 1) -> None:
        assert mode in MODES, mode
        with self._lock:
            self._mode, self._times = mode, times

    def off(self) -> None:
        with self._lock:
            self._mode, self._times = None, 0

    def posts(self, path_suffix: str = "") -> list[Seen]:
        return [s for s in self.seen if s.method == "POST" and s.path.endswith(path_suffix)]

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{self.api_prefix}"

    def _take_fault(self, method: str, path: str) -> str | None:
        if method != "POST" or not path.startswith(self.api_prefix + self.path_prefix):
            return None
        with self._lock:
            if self._mode is None or self._times <= 0:
                return None
            self._times -= 1
            return self._mode

    # --- serving --------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                proxy._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def close(self) -> None:
        self._closing.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        fault = self._take_fault(handler.command, handler.path)
        with self._lock:
            self.seen.append(
                Seen(handler.command, handler.path, handler.headers.get("Idempotency-Key"), fault)
            )
        if fault == "500":
            self._reply(handler, 500, b'{"detail": "injected failure"}')
            return
        if fault == "409":
            detail = {
                "detail": "A request with this Idempotency-Key is still running",
                "rule": "idempotency_key_in_progress",
            }
            self._reply(handler, 409, json.dumps(detail).encode())
            return
        if fault == "timeout":
            self._closing.wait(self.hold_s)
            handler.close_connection = True
            return
        status, headers, payload = self._forward(handler, body)
        if fault == "lost":
            self._reply(handler, 500, b'{"detail": "injected failure after the platform answered"}')
            return
        if fault == "late":
            self._closing.wait(self.hold_s)
        self._reply(handler, status, payload, headers)

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.target_host, self.target_port, timeout=30)
        try:
            skip = {"host", "content-length", "connection"}
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in skip}
            conn.request(handler.command, handler.path, body=body or None, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            keep = {
                k: v
                for k, v in response.getheaders()
                if k.lower() not in ("content-length", "connection", "transfer-encoding")
            }
            return response.status, keep, payload
        finally:
            conn.close()

    @staticmethod
    def _reply(
        handler: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict[str, str] | None = None
    ) -> None:
        try:
            handler.send_response(status)
            for name, value in (headers or {"content-type": "application/json"}).items():
                handler.send_header(name, value)
            handler.send_header("content-length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout): exactly what "late" simulates
