"""Database engine and sessions: SQLite by default, PostgreSQL through the same models.

SQLite is tuned so that concurrent requests behave like they would on PostgreSQL:
- WAL journal: readers never block the writer and the writer never blocks readers;
- a busy timeout: a second writer waits for the lock instead of failing with "database is locked";
- foreign keys on: the ON DELETE CASCADE rules in the models (project -> tracks -> courses ->
  enrollments) are enforced by the database itself, as PostgreSQL does by default.
Uniqueness (project names per organization, track names per project, ...) is a database
constraint in both engines, so two concurrent creates cannot both succeed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from sandbox.shared.models import Base

SQLITE_BUSY_TIMEOUT_SECONDS = 30


def make_engine(database_url: str) -> Engine:
    """Build the engine for `database_url`, creating the SQLite file's folder if needed."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
    )
    event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit, so a route can serialize what it saved."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def create_schema(engine: Engine) -> None:
    """Create every table that does not exist yet (never alters or drops existing ones)."""
    Base.metadata.create_all(engine)


def drop_schema(engine: Engine) -> None:
    """Drop every sandbox table: used by `python -m sandbox seed --reset`."""
    Base.metadata.drop_all(engine)


def schema_exists(engine: Engine) -> bool:
    """True when the organizations table exists (the schema was created before)."""
    return inspect(engine).has_table("organizations")
