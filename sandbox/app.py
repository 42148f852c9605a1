"""The FastAPI application of the sandbox Course Creator Platform.

`create_app(settings)` wires everything: it loads the platform limits, opens the database,
creates the schema, seeds an empty database (unless SANDBOX_SEED_ON_START=false), and mounts
every service's routes under /api/v1, behind two middlewares (body size limit, Idempotency-Key).
The same app runs under uvicorn (`python -m sandbox serve`, `sandbox.server.start_in_thread`) and
in-process in tests (TestClient or httpx's ASGITransport).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from sandbox import __version__
from sandbox.seed import seed_if_empty
from sandbox.services.analytics.routes import router as analytics_router
from sandbox.services.course_management.course_routes import router as course_router
from sandbox.services.course_management.enrollment_routes import router as enrollment_router
from sandbox.services.organization_management.member_routes import router as member_router
from sandbox.services.organization_management.organization_routes import router as organization_router
from sandbox.services.organization_management.project_routes import router as project_router
from sandbox.services.organization_management.track_routes import router as track_router
from sandbox.services.user_management.routes import router as user_router
from sandbox.settings import SandboxSettings
from sandbox.shared.body_limit import BodySizeLimitMiddleware
from sandbox.shared.config import load_platform_config
from sandbox.shared.context import ContextDep, SandboxContext
from sandbox.shared.db import create_schema, make_engine, make_session_factory
from sandbox.shared.errors import install_error_handlers
from sandbox.shared.idempotency import IdempotencyMiddleware
from sandbox.shared.rate_limit import LoginRateLimiter
from sandbox.shared.signing_key import check_signing_key, signing_key

API_PREFIX = "/api/v1"
ROUTERS = (
    user_router,
    organization_router,
    project_router,
    track_router,
    member_router,
    course_router,
    enrollment_router,
    analytics_router,
)


def build_context(settings: SandboxSettings) -> SandboxContext:
    """Open the database (creating and, if asked, seeding it) and read the limits."""
    check_signing_key(settings)
    config = load_platform_config(settings.platform_config)
    engine = make_engine(settings.database_url)
    create_schema(engine)
    session_factory = make_session_factory(engine)
    if settings.seed_on_start:
        seed_if_empty(session_factory, config)
    limiter = LoginRateLimiter(config.auth.login_max_failed_attempts, config.auth.login_window_seconds)
    return SandboxContext(
        settings, config, engine, session_factory, limiter, signing_key(settings, session_factory)
    )


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    """Build a ready-to-serve app; its database is ready when this returns."""
    context = build_context(settings or SandboxSettings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        context.engine.dispose()

    app = FastAPI(
        title="Course Creator Platform (sandbox)",
        version=__version__,
        description="A runnable stand-in of the Course Creator Platform's admin API. "
        "See sandbox/docs/API_DOCUMENTATION.md.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.sandbox = context
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    _add_service_routes(app)
    # Added last = outermost: the body limit runs before idempotency reads the body.
    app.add_middleware(IdempotencyMiddleware, context=context)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=context.config.requests.max_body_bytes)
    return app


def _add_service_routes(app: FastAPI) -> None:
    @app.get(f"{API_PREFIX}/health", tags=["health"])
    def health(context: ContextDep) -> dict[str, str]:
        """Liveness and database check; needs no token."""
        with context.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "database": "ok", "version": __version__}

    @app.get("/openapi.json", include_in_schema=False)
    def root_openapi() -> dict[str, Any]:
        """The OpenAPI document at FastAPI's usual address too."""
        return app.openapi()
