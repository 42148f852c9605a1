"""What one running sandbox holds (settings, limits, database, rate limiter) and how routes get it.

`create_app` builds one `SandboxContext` and stores it on `app.state.sandbox`; routes reach it
through the `get_context` / `get_session` dependencies, so two apps in one process (tests run
many) never share a database or a rate limiter.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sandbox.settings import SandboxSettings
from sandbox.shared.config import PlatformConfig
from sandbox.shared.rate_limit import LoginRateLimiter
from sandbox.shared.unit_of_work import REQUEST_SESSION


@dataclass
class SandboxContext:
    """Everything a request needs besides its own input."""

    settings: SandboxSettings
    config: PlatformConfig
    engine: Engine
    session_factory: sessionmaker[Session]
    login_limiter: LoginRateLimiter
    signing_key: str

    @property
    def token_ttl_minutes(self) -> int:
        """SANDBOX_TOKEN_TTL_MINUTES when set, else auth.token_ttl_minutes of platform.yaml."""
        return self.settings.token_ttl_minutes or self.config.auth.token_ttl_minutes

    @property
    def jwt_secret(self) -> str:
        """SANDBOX_JWT_SECRET, or the database's own generated key (see `signing_key`)."""
        return self.signing_key


def get_context(request: Request) -> SandboxContext:
    """The running sandbox's context (a FastAPI dependency)."""
    context: SandboxContext = request.app.state.sandbox
    return context


def get_session(context: Annotated[SandboxContext, Depends(get_context)]) -> Iterator[Session]:
    """One database session per request, closed (and rolled back if uncommitted) at the end.

    A write under an Idempotency-Key gets the session the middleware opened instead, so the
    change and its stored answer commit together (see `unit_of_work`).
    """
    owned = REQUEST_SESSION.get()
    if owned is not None:
        yield owned
        return
    with context.session_factory() as session:
        yield session


ContextDep = Annotated[SandboxContext, Depends(get_context)]
SessionDep = Annotated[Session, Depends(get_session)]
