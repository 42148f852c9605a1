"""Fixtures of the sandbox tests: one fresh, seeded SQLite file per test.

Seeding hashes passwords (deliberately slow), so the seeded database is built once per session
as a template and copied into each test's tmp_path: every test still gets its own database.
One app serves every test (see `shared_app`), rebound to the test's database.
Tokens are minted directly (`Api.headers`) rather than through /auth/login, for the same reason;
the login endpoint has its own tests.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sandbox.app import build_context, create_app
from sandbox.settings import DEFAULT_PLATFORM_CONFIG, SandboxSettings
from sandbox.shared.context import SandboxContext
from tests.sandbox.helpers import TEST_SECRET, Api


@pytest.fixture(autouse=True)
def _clean_sandbox_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's SANDBOX_* variables must not change what the tests see."""
    import os

    for name in list(os.environ):
        if name.startswith("SANDBOX_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "sandbox.db"
    app = create_app(SandboxSettings(database_url=f"sqlite:///{path}", jwt_secret=TEST_SECRET))
    engine = app.state.sandbox.engine
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def db_path(tmp_path: Path, template_db: Path) -> Path:
    path = tmp_path / "sandbox.db"
    shutil.copyfile(template_db, path)
    return path


@pytest.fixture
def make_settings(db_path: Path, tmp_path: Path) -> Callable[..., SandboxSettings]:
    """Settings on this test's database; `limits={"section": {"key": value}}` edits platform.yaml."""

    def build(limits: dict[str, dict[str, Any]] | None = None, **overrides: Any) -> SandboxSettings:
        values: dict[str, Any] = {"database_url": f"sqlite:///{db_path}", "jwt_secret": TEST_SECRET}
        if limits:
            data = yaml.safe_load(DEFAULT_PLATFORM_CONFIG.read_text(encoding="utf-8"))
            for section, keys in limits.items():
                data[section].update(keys)
            config = tmp_path / "platform.yaml"
            config.write_text(yaml.safe_dump(data), encoding="utf-8")
            values["platform_config"] = config
        values.update(overrides)
        return SandboxSettings(**values)

    return build


@pytest.fixture(scope="session")
def shared_app(
    template_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FastAPI, TestClient]]:
    """One app for the whole session: FastAPI builds its routes lazily on the first request of an
    app (about 0.1 s), so each test rebinds this app's context to its own database instead."""
    path = tmp_path_factory.mktemp("shared") / "sandbox.db"
    shutil.copyfile(template_db, path)
    app = create_app(SandboxSettings(database_url=f"sqlite:///{path}", jwt_secret=TEST_SECRET))
    with TestClient(app) as client:
        yield app, client


@pytest.fixture
def make_api(
    shared_app: tuple[FastAPI, TestClient], make_settings: Callable[..., SandboxSettings]
) -> Iterator[Callable[..., Api]]:
    """An Api on this test's own database (optionally with edited limits), served by the shared app."""
    app, client = shared_app
    context: SandboxContext = app.state.sandbox
    original = {f.name: getattr(context, f.name) for f in fields(SandboxContext)}
    built: list[SandboxContext] = []

    def build(limits: dict[str, dict[str, Any]] | None = None, **overrides: Any) -> Api:
        fresh = build_context(make_settings(limits, **overrides))
        built.append(fresh)
        for f in fields(SandboxContext):
            setattr(context, f.name, getattr(fresh, f.name))
        return Api(client, app)

    yield build
    for name, value in original.items():
        setattr(context, name, value)
    for fresh in built:
        fresh.engine.dispose()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    """A client on a fresh copy of the seeded database, with default limits."""
    return make_api()
