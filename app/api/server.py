"""The FastAPI application of the assistant service, and how `python -m app serve` runs it.

`create_app(services)` serves given services (tests); without them the app builds its own from
the settings at start-up and closes them at shutdown. `serve()` runs uvicorn on ASSISTANT_HOST and
ASSISTANT_PORT, with TLS when a certificate and key are set, and ASSISTANT_WORKERS processes when
REDIS_URL is set (events cross workers through Redis; without it a second worker could not see
turns run by the first, so it refuses).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import tempfile
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from app.api.routes import router
from app.api.state import AssistantState
from app.api.websocket import websocket_endpoint
from app.config import Settings, get_settings
from app.platform.errors import PlatformError
from app.services import Services, build_services

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


class DemoLogin(BaseModel):
    email: str
    password: str


def create_app(services: Services | None = None, *, demo: bool = True) -> FastAPI:
    owned = services is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = services or build_services()
        app.state.assistant = AssistantState.of(svc)
        if owned:  # a worker of its own: what start-up loaded (FastAPI, Gradio, the engine) stays
            # for the process's life, so leave it out of the collector: a full collection over it
            # stopped every turn in flight for ~230 ms (measured under the service benchmark);
            # frozen, the longest collection took 13-27 ms.
            gc.collect()
            gc.freeze()
        # The store, the platform and starting turns are blocking calls run in threads; the default
        # pool (cores + 4) would queue a busy minute's messages behind each other.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=16, thread_name_prefix="assistant")
        )
        try:
            yield
        finally:
            app.state.assistant.watch.stop()
            if owned:
                svc.close()

    app = FastAPI(
        title="Course Creator AI Assistant",
        version="1.0",
        description="The assistant's WebSocket (/ws/ai-assistant) and HTTP API. Authenticate with the platform's bearer token.",
        lifespan=lifespan,
    )
    app.include_router(router)
    app.add_api_websocket_route("/ws/ai-assistant", websocket_endpoint)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if demo:
        from app.api.demo import mount_demo

        mount_demo(app, services)

    @app.get("/widget-demo", include_in_schema=False)
    async def widget_demo() -> FileResponse:
        return FileResponse(STATIC / "widget-demo.html", media_type="text/html")

    @app.get("/", include_in_schema=False)
    async def home() -> HTMLResponse:
        return HTMLResponse(
            "<h1>Course Creator AI Assistant</h1><ul><li><a href='/widget-demo'>Widget demo</a></li>"
            "<li><a href='/demo/'>Stakeholder demo</a></li><li><a href='/docs'>API docs</a></li>"
            "<li><a href='/health'>Health</a></li></ul>"
        )

    @app.get("/widget-demo/accounts", include_in_schema=False)
    async def demo_accounts(request: Request) -> list[dict[str, str]]:
        """The sandbox's demo users, only while the bundled sandbox runs in-process (never their passwords)."""
        svc: Services = request.app.state.assistant.services
        if not svc.embedded_platform:
            return []
        from app.accounts import demo_accounts as accounts

        return [
            {"email": a.email, "name": a.full_name, "role": a.role, "organization": a.organization}
            for a in accounts()
        ]

    @app.post("/widget-demo/login", include_in_schema=False)
    async def demo_login(body: DemoLogin, request: Request) -> dict[str, Any]:
        """Sign in to the platform for the widget demo page (the platform's own login, proxied)."""
        svc: Services = request.app.state.assistant.services
        if svc.embedded_platform and body.password == "":
            from app.accounts import demo_accounts as accounts

            match = next((a for a in accounts() if a.email == body.email), None)
            if match is not None:  # a one-click demo user of the bundled sandbox
                body = DemoLogin(email=match.email, password=match.password)
        try:
            user = svc.sign_in(body.email, body.password)
        except PlatformError as exc:
            raise HTTPException(401 if exc.status in (400, 401, 403, 404, 422) else 502, exc.detail) from exc
        return {"token": user.token, "user": {"name": user.full_name, "email": user.email, "role": user.role,
                                              "organization_id": user.organization_id}}  # fmt: skip

    return app


def app_factory() -> FastAPI:
    """What each uvicorn worker builds (`app.api.server:app_factory`, factory mode)."""
    return create_app()


def serve(
    settings: Settings | None = None,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
) -> None:
    import uvicorn

    settings = settings or get_settings()
    workers = workers or settings.assistant_workers
    if workers > 1 and not settings.redis_url:
        raise SystemExit(
            f"ASSISTANT_WORKERS={workers} needs REDIS_URL: without Redis, a socket on one worker would not see "
            "turns and approvals made through another. Set REDIS_URL, or run one worker."
        )
    tls: dict[str, Any] = {}
    if settings.assistant_tls_cert or settings.assistant_tls_key:
        if not (settings.assistant_tls_cert and settings.assistant_tls_key):
            raise SystemExit("TLS needs both ASSISTANT_TLS_CERT and ASSISTANT_TLS_KEY.")
        tls = {
            "ssl_certfile": str(settings.assistant_tls_cert),
            "ssl_keyfile": str(settings.assistant_tls_key),
        }
    sandbox = None
    if workers > 1:
        # One bundled platform for all workers (each would start its own otherwise), and metrics added up.
        if not settings.platform_base_url:
            from app.services import start_bundled_sandbox

            sandbox = start_bundled_sandbox(settings)
            os.environ["PLATFORM_BASE_URL"] = sandbox.base_url
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="cca-metrics-"))
    scheme = "https" if tls else "http"
    log.warning("assistant service on %s://%s:%s (%d worker%s)", scheme, host or settings.assistant_host,
                port or settings.assistant_port, workers, "s" if workers > 1 else "")  # fmt: skip
    options: dict[str, Any] = {
        "log_level": "warning",
        # Frames are small JSON, mostly one streamed delta each: compressing every one costs the
        # worker more CPU than it saves on a same-origin connection.
        "ws_per_message_deflate": False,
        **tls,
    }
    host, port = host or settings.assistant_host, port or settings.assistant_port
    try:
        if workers > 1:  # a listening socket per worker, so the kernel spreads the sockets evenly
            from app.api.workers import run_workers

            run_workers(host, port, workers, options)
        else:
            uvicorn.run("app.api.server:app_factory", factory=True, host=host, port=port, **options)
    finally:
        if sandbox is not None:
            sandbox.stop()
