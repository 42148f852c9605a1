"""Run the sandbox on a real local port in a background thread.

The assistant talks to the platform over real HTTP, so demos and integration tests start the
sandbox with `start_in_thread()`: a uvicorn server on a free port (port=0 lets the OS choose) in a
daemon thread. It returns once /api/v1/health answers, so callers can use `base_url` at once.

    with start_in_thread(SandboxSettings(database_url="sqlite:///tmp/x.db")) as sandbox:
        httpx.get(f"{sandbox.base_url}/health")
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import httpx
import uvicorn

from sandbox.app import API_PREFIX, create_app
from sandbox.settings import SandboxSettings
from sandbox.shared.context import SandboxContext

STARTUP_TIMEOUT_SECONDS = 20.0


class SandboxStartError(RuntimeError):
    """The server thread died or did not answer /health in time."""


class RunningSandbox:
    """A sandbox serving HTTP on `host:port`; `stop()` (or leaving the `with` block) shuts it down."""

    def __init__(
        self, server: uvicorn.Server, thread: threading.Thread, host: str, port: int, context: SandboxContext
    ) -> None:
        self.context = context
        self._server = server
        self._thread = thread
        self.host = host
        self.port = port

    @property
    def base_url(self) -> str:
        """e.g. http://127.0.0.1:54321/api/v1"""
        return f"http://{self.host}:{self.port}{API_PREFIX}"

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit and wait for the thread (the engine is disposed on shutdown)."""
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_in_thread(
    settings: SandboxSettings | None = None, host: str = "127.0.0.1", port: int = 0
) -> RunningSandbox:
    """Start a real uvicorn server in a daemon thread; return when it answers /health."""
    settings = (settings or SandboxSettings()).model_copy(update={"host": host})
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, log_level=settings.log_level, lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="sandbox-server", daemon=True
    )
    thread.start()
    running = RunningSandbox(server, thread, host, bound_port, app.state.sandbox)
    _wait_until_healthy(running)
    return running


def _wait_until_healthy(running: RunningSandbox) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if not running.running:
            raise SandboxStartError("the sandbox server thread exited during start-up")
        try:
            if httpx.get(f"{running.base_url}/health", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError as exc:
            last_error = exc
        time.sleep(0.05)
    running.stop()
    raise SandboxStartError(f"the sandbox did not answer /health in time: {last_error}")
