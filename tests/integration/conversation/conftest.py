"""Conversation scenarios against the real sandbox platform, started in-process over real HTTP.

One sandbox per test module, on a fresh copy of a seeded SQLite file (seeding hashes passwords,
so it happens once per session); every test gets its own assistant store in its tmp_path and
its own Services from the composition root. Sign-ins are cached per module (a login is a
deliberately slow password hash on the platform).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.permissions.policy import UserContext
from app.platform.client import PlatformClient
from app.providers.base import Provider
from app.providers.offline import OfflineProvider
from app.providers.scripted import ScriptedProvider
from app.services import Services, build_services
from sandbox.app import create_app
from sandbox.server import RunningSandbox, start_in_thread
from sandbox.settings import DEFAULT_PLATFORM_CONFIG, SandboxSettings
from tests.fakes.fixtures import anthropic_server, openai_server
from tests.support.fixtures import redis_key_prefix, redis_url

ADMIN_A = ("maya.patel@northwind-academy.example", "OrgAdmin#2024")
INSTRUCTOR_A = ("daniel.kim@northwind-academy.example", "Instructor#2024")
STUDENT_A = ("aisha.rahman@northwind-academy.example", "Student#2024")
ADMIN_B = ("grace.okafor@brightpath.example", "OrgAdmin#2024")
NO_INDEX = "no-index"


def sandbox_settings(path: Path) -> SandboxSettings:
    return SandboxSettings(
        database_url=f"sqlite:///{path}", platform_config=DEFAULT_PLATFORM_CONFIG, token_ttl_minutes=60
    )


@pytest.fixture(scope="session")
def seeded_platform_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("platform-template") / "sandbox.db"
    engine = create_app(sandbox_settings(path)).state.sandbox.engine
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def sandbox(seeded_platform_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    path = tmp_path_factory.mktemp("platform") / "sandbox.db"
    shutil.copyfile(seeded_platform_db, path)
    running = start_in_thread(sandbox_settings(path))
    yield running
    running.stop()


def settings_for(data_dir: Path, base_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "index_dir": data_dir / NO_INDEX,
        "platform_base_url": base_url,
        "database_url": None,
        "redis_url": None,
        "sandbox_database_url": None,
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module")
def sign_in(
    sandbox: RunningSandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., UserContext]]:
    """sign_in((email, password)) -> UserContext through Services.sign_in, cached per module."""
    services = build_services(
        settings_for(tmp_path_factory.mktemp("signin"), sandbox.base_url), provider=ScriptedProvider()
    )
    cache: dict[str, UserContext] = {}

    def login(who: tuple[str, str]) -> UserContext:
        if who[0] not in cache:
            cache[who[0]] = services.sign_in(*who)
        return cache[who[0]]

    yield login
    services.close()


@pytest.fixture
def make_services(tmp_path: Path, sandbox: RunningSandbox) -> Iterator[Callable[..., Services]]:
    """make_services(provider, base_url=None, **settings) -> Services on this test's own store."""
    made: list[Services] = []

    def make(provider: Provider, base_url: str | None = None, **overrides: Any) -> Services:
        data_dir = tmp_path / f"assistant{len(made)}"
        settings = settings_for(data_dir, base_url or sandbox.base_url, **overrides)
        services = build_services(settings, provider=provider)
        made.append(services)
        return services

    yield make
    for services in made:
        services.close()


@pytest.fixture
def platform(sandbox: RunningSandbox) -> Iterator[Callable[[UserContext], PlatformClient]]:
    """platform(user) -> a client of the sandbox acting with that user's token (for checks)."""
    clients: list[PlatformClient] = []

    def client(user: UserContext) -> PlatformClient:
        made = PlatformClient(sandbox.base_url, user.token)
        clients.append(made)
        return made

    yield client
    for made in clients:
        made.close()


@pytest.fixture
def admin(sign_in: Callable[..., UserContext]) -> UserContext:
    """Maya Patel, organization admin of Northwind Academy."""
    return sign_in(ADMIN_A)


@pytest.fixture
def offline(make_services: Callable[..., Services]) -> Services:
    return make_services(OfflineProvider())
