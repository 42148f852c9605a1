"""Throwaway PostgreSQL databases on the local server, for tests.

Every machine here (and CI) runs PostgreSQL on 127.0.0.1:5432 with trust auth and a `test`
database. A test run gets its own database, `cca_test_<random hex>`, created through an
autocommit connection to `test` and dropped (forcibly) at the end, so runs never see each other's
rows and a crashed run leaves at most one stray database behind.

Environment: CCA_TEST_POSTGRES_ADMIN_URL overrides the admin connection (a libpq URL such as
postgresql://me@127.0.0.1:5432/test); otherwise users `postgres`, then `root`, are tried.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

HOST = "127.0.0.1"
PORT = 5432
ADMIN_DB = "test"
ADMIN_URL_ENV = "CCA_TEST_POSTGRES_ADMIN_URL"
DB_PREFIX = "cca_test_"


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections at host:port (a fast pre-check before libpq)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _candidate_admin_urls() -> list[str]:
    configured = os.environ.get(ADMIN_URL_ENV)
    if configured:
        return [configured]
    return [f"postgresql://{user}@{HOST}:{PORT}/{ADMIN_DB}" for user in ("postgres", "root")]


def find_admin_url() -> tuple[str | None, str]:
    """A libpq URL that can create databases, or None and the reason nothing could be used."""
    if not os.environ.get(ADMIN_URL_ENV) and not port_open(HOST, PORT):
        return None, f"PostgreSQL does not answer on {HOST}:{PORT}"
    errors = []
    for url in _candidate_admin_urls():
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            return url, ""
        except psycopg.Error as exc:
            errors.append(f"{url}: {str(exc).strip()}")
    return None, "cannot connect to PostgreSQL as an admin: " + "; ".join(errors)


def _with_database(admin_url: str, name: str) -> str:
    """The SQLAlchemy (psycopg 3) URL of database `name` on the admin URL's server."""
    base, _, _ = admin_url.rpartition("/")
    return base.replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name


def create_database(admin_url: str, name: str | None = None) -> tuple[str, str]:
    """Create an empty database; returns (name, SQLAlchemy URL)."""
    name = name or DB_PREFIX + secrets.token_hex(6)
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name, _with_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    """Drop a database even if connections to it are still open (PostgreSQL 13+ FORCE)."""
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def temporary_database(admin_url: str) -> Iterator[str]:
    """A fresh database for the duration of the block; yields its SQLAlchemy URL."""
    name, url = create_database(admin_url)
    try:
        yield url
    finally:
        drop_database(admin_url, name)


def reset_schema(url: str) -> None:
    """Empty a test database: drop and recreate its `public` schema (fast, unlike a new database).

    A lock timeout turns a connection someone forgot to close into an error instead of a hang.
    """
    libpq_url = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq_url, autocommit=True, connect_timeout=3) as conn:
        conn.execute("SET lock_timeout = '10s'")
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def truncate_tables(url: str, keep: tuple[str, ...] = ()) -> list[str]:
    """Delete every row of every table in `public` except those in `keep`; returns the tables kept
    and emptied. Far faster than rebuilding the schema, for tests that only need empty tables."""
    libpq_url = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq_url, autocommit=True, connect_timeout=3) as conn:
        conn.execute("SET lock_timeout = '10s'")
        tables = [
            str(row[0])
            for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            if row[0] not in keep
        ]
        if tables:
            names = sql.SQL(", ").join(sql.Identifier(t) for t in tables)
            conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(names))
    return tables


def max_schema_version(url: str) -> int | None:
    """The highest row of the store's schema_version table, or None if there is none."""
    libpq_url = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq_url, autocommit=True, connect_timeout=3) as conn:
        if conn.execute("SELECT to_regclass('public.schema_version')").fetchone() == (None,):
            return None
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        return None if row is None or row[0] is None else int(row[0])
