"""Shared pytest fixtures for tests that need a database or Redis.

Use them from any test folder by importing them into that folder's conftest.py (pytest only
honours `pytest_plugins` in the root conftest):

    from tests.support.fixtures import (  # noqa: F401
        backend, database_url, postgres_admin_url, postgres_database, postgres_url,
        redis_key_prefix, redis_url, sqlite_url, store,
    )

- `sqlite_url`: a SQLite file in the test's tmp_path.
- `postgres_database` (session): a fresh `cca_test_<hex>` database for the run, dropped at the
  end; skips with the reason when PostgreSQL does not answer on 127.0.0.1:5432.
- `postgres_url`: that database with an empty schema, for one test.
- `backend`: parametrized over "sqlite" and "postgresql"; the PostgreSQL case carries the
  `postgres` marker, so `-m "not postgres"` runs SQLite only. Requesting `database_url` or
  `store` runs the test once per backend.
- `database_url`: the URL of an empty database (no tables), for schema tests.
- `store`: an opened `app.store.Store` with empty tables, closed after the test.
- `redis_url` (session): the local Redis, skipping with the reason when it does not answer.
- `redis_key_prefix`: a fresh `cca_test_<hex>:` prefix whose keys are deleted after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store import LATEST_VERSION, Store
from tests.support import postgres, redis_server


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url, reason = postgres.find_admin_url()
    if url is None:
        pytest.skip(reason)
    return url


@pytest.fixture(scope="session")
def postgres_database(postgres_admin_url: str) -> Iterator[str]:
    with postgres.temporary_database(postgres_admin_url) as url:
        yield url


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    postgres.reset_schema(postgres_database)
    return postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The database kind a test runs on; `database_url` and `store` are parametrized through it."""
    name: str = request.param
    return name


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """A URL of an empty database (no tables at all), for tests of schema creation."""
    url: str = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    return url


@pytest.fixture
def store(backend: str, request: pytest.FixtureRequest) -> Iterator[Store]:
    """An opened Store with empty tables. Use `store` or `database_url` in a test, not both.

    On PostgreSQL the schema left by the previous test is reused when it is at the latest
    version (its tables are truncated, ~10x faster than rebuilding); otherwise it is rebuilt.
    """
    if backend == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("postgres_database")
        if postgres.max_schema_version(url) == LATEST_VERSION:
            postgres.truncate_tables(url, keep=("schema_version",))
        else:
            postgres.reset_schema(url)
    with Store(url) as opened:
        yield opened


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = redis_server.redis_url()
    reason = redis_server.check_redis(url)
    if reason is not None:
        pytest.skip(reason)
    return url


@pytest.fixture
def redis_key_prefix(redis_url: str) -> Iterator[str]:
    prefix = redis_server.unique_prefix()
    yield prefix
    redis_server.delete_prefix(redis_url, prefix)
