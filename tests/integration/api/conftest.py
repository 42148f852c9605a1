"""The assistant service over FastAPI's test client: the real engine, store and sandbox platform."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.server import create_app
from app.permissions.policy import UserContext
from app.providers.base import Provider
from app.providers.offline import OfflineProvider
from app.services import Services
from tests.integration.conversation.conftest import (
    ADMIN_A,
    ADMIN_B,
    INSTRUCTOR_A,
    STUDENT_A,
    make_services,
    platform,
    sandbox,
    seeded_platform_db,
    sign_in,
)
from tests.support.dashboard import sandbox_index
from tests.support.fixtures import redis_key_prefix, redis_url

__all__ = ["ADMIN_A", "ADMIN_B", "INSTRUCTOR_A", "STUDENT_A"]


@pytest.fixture
def service(make_services: Callable[..., Services]) -> Iterator[Callable[..., tuple[TestClient, Services]]]:
    """service(provider=None, **settings) -> (a started TestClient, its Services)."""
    clients: list[TestClient] = []

    def start(provider: Provider | None = None, **overrides: Any) -> tuple[TestClient, Services]:
        services = make_services(provider or OfflineProvider(), **overrides)
        client = TestClient(create_app(services, demo=False))
        client.__enter__()
        clients.append(client)
        return client, services

    yield start
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def admin(sign_in: Callable[..., UserContext]) -> UserContext:
    return sign_in(ADMIN_A)


def frames_until(ws: Any, kind: str, limit: int = 500) -> list[dict[str, Any]]:
    """Read frames up to and including the first of `kind`."""
    seen = []
    for _ in range(limit):
        frame = ws.receive_json()
        seen.append(frame)
        if frame["type"] == kind:
            return seen
    raise AssertionError(f"no {kind} frame in {limit}: {[f['type'] for f in seen]}")
