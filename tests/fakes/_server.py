"""The HTTP machinery the fake LLM servers share: a loopback server in a thread, a reply queue, a log.

Each fake (anthropic_server, openai_server) subclasses `ScriptedServer` and only says how a
scripted reply is written in its provider's wire format. Everything a test needs to steer or
inspect a conversation lives here: `enqueue` replies, read `requests`, wait for the client to hang
up. The stdlib server is used on purpose: no extra dependency, and one thread per request means a
`delay` never blocks the next request.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class ClientGone(Exception):
    """The client closed the connection while the server was still writing the reply."""


@dataclass
class RecordedRequest:
    """One request as the server received it, for assertions."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: dict[str, Any] | None
    completed: bool = False  # the whole reply was written
    disconnected: bool = False  # the client hung up before the reply was complete


@dataclass(frozen=True)
class Delay:
    """Wait `seconds` before answering (to make the client time out), then answer with `then`."""

    seconds: float
    then: Any = None


@dataclass(frozen=True)
class HttpError:
    """An HTTP error status with the provider's own error JSON and headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def delay(seconds: float, then: Any = None) -> Delay:
    """Stall the reply for `seconds` (the server wakes up early when it is closed)."""
    return Delay(seconds, then)


def retry_headers(retry_after: float | None, retry_after_ms: float | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    if retry_after_ms is not None:
        headers["retry-after-ms"] = str(retry_after_ms)
    return headers


class Writer:
    """Writes one reply on a handler's socket and notices a client that hung up."""

    def __init__(self, handler: BaseHTTPRequestHandler, record: RecordedRequest) -> None:
        self._handler = handler
        self._record = record

    def json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self._start(
            status, {"content-type": "application/json", "content-length": str(len(data)), **(headers or {})}
        )
        self._write(data)

    def sse(self, events: Iterable[bytes], *, chunk_delay: float = 0.0, stop: threading.Event) -> None:
        """Stream server-sent events; the body ends when the connection closes (HTTP/1.0 style)."""
        self._start(200, {"content-type": "text/event-stream", "cache-control": "no-cache"})
        for event in events:
            self._write(event)
            if chunk_delay and stop.wait(chunk_delay):
                return

    def _start(self, status: int, headers: dict[str, str]) -> None:
        try:
            self._handler.send_response(status)
            for name, value in headers.items():
                self._handler.send_header(name, value)
            self._handler.end_headers()
        except _CLIENT_GONE as err:
            raise ClientGone() from err

    def _write(self, data: bytes) -> None:
        try:
            self._handler.wfile.write(data)
            self._handler.wfile.flush()
        except _CLIENT_GONE as err:
            raise ClientGone() from err


Reply = Any  # a subclass's reply object, an HttpError, a Delay, or a callable(body) -> one of those


class ScriptedServer:
    """A loopback HTTP server that answers each request with the next scripted reply.

    Subclasses set `server_name`, `base_path` and implement `validate` and `write_reply`.
    """

    server_name = "FakeServer"
    base_path = ""
    api_key_header = "authorization"

    def __init__(self, *, api_key: str | None = None) -> None:
        self.api_key = api_key  # when set, requests carrying another key get the provider's 401
        self.requests: list[RecordedRequest] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._disconnected = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- scripting --------------------------------------------------------------------------
    def enqueue(self, *replies: Reply) -> ScriptedServer:
        """Add replies; each incoming request takes the next one (SDK retries take one each)."""
        with self._lock:
            self._replies.extend(replies)
        return self

    @property
    def pending(self) -> int:
        """Replies not yet used."""
        with self._lock:
            return len(self._replies)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of every request so far, in order."""
        return [r.body or {} for r in self.requests]

    def wait_for_disconnect(self, timeout: float = 5.0) -> bool:
        """True once some client hung up in the middle of a reply."""
        return self._disconnected.wait(timeout)

    # --- lifecycle --------------------------------------------------------------------------
    @property
    def address(self) -> str:
        assert self._httpd is not None, "server not started: use it as a context manager"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        return self.address + self.base_path

    def start(self) -> ScriptedServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                server._handle(self)

            def do_GET(self) -> None:
                server._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- one request ------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        record = RecordedRequest(
            method=handler.command,
            path=handler.path,
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body if isinstance(body, dict) else None,
        )
        with self._lock:
            self.requests.append(record)
            index = len(self.requests)
        writer = Writer(handler, record)
        try:
            self._answer(writer, record, index)
            record.completed = True
        except ClientGone:
            record.disconnected = True
            self._disconnected.set()

    def _answer(self, writer: Writer, record: RecordedRequest, index: int) -> None:
        if self.api_key is not None and self.presented_key(record.headers) != self.api_key:
            error = self.auth_error()
            writer.json(error.status, error.body, error.headers)
            return
        problem = self.validate(record)
        if problem is not None:
            writer.json(problem.status, problem.body, problem.headers)
            return
        with self._lock:
            reply = self._replies.popleft() if self._replies else None
        if reply is None:
            error = self.no_reply_error(f"{self.server_name}: no scripted reply left for request #{index}")
            writer.json(error.status, error.body, error.headers)
            return
        self._send(writer, record, reply)

    def _send(self, writer: Writer, record: RecordedRequest, reply: Reply) -> None:
        if callable(reply) and not isinstance(reply, (HttpError, Delay)):
            reply = reply(record.body or {})
        if isinstance(reply, Delay):
            if self._closing.wait(reply.seconds):
                return
            then = reply.then if reply.then is not None else self.default_reply()
            self._send(writer, record, then)
            return
        if isinstance(reply, HttpError):
            writer.json(reply.status, reply.body, reply.headers)
            return
        self.write_reply(writer, record, reply, self._closing)

    # --- provider specifics -----------------------------------------------------------------
    def presented_key(self, headers: dict[str, str]) -> str | None:
        value = headers.get(self.api_key_header)
        if value is not None and value.lower().startswith("bearer "):
            return value[7:]
        return value

    def auth_error(self) -> HttpError:
        raise NotImplementedError

    def no_reply_error(self, message: str) -> HttpError:
        raise NotImplementedError

    def validate(self, record: RecordedRequest) -> HttpError | None:
        raise NotImplementedError

    def default_reply(self) -> Reply:
        raise NotImplementedError

    def write_reply(
        self, writer: Writer, record: RecordedRequest, reply: Reply, stop: threading.Event
    ) -> None:
        raise NotImplementedError


def split_text(text: str, size: int) -> list[str]:
    """Cut text into pieces of `size` characters (at least one piece, possibly empty)."""
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def now() -> int:
    return int(time.time())
