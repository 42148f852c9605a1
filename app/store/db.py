"""The database connection and the Store that owns it.

`Store(url)` is the one object the rest of the assistant holds: it opens the engine, brings the
schema up to date, and exposes the repositories (`store.conversations`, `.actions`, `.audit`,
`.usage`, `.feedback`, `.turns`, `.web_sessions`, `.directory`, `.eval_runs`). Build one per process (the composition root does) and share it.

Threads: the engine and its pool are thread-safe and every repository call opens and closes its
own short session, returning frozen snapshots, so one Store serves the Streamlit script threads and
the API server threads at once. Nothing is cached between calls.

SQLite (the default, a file under DATA_DIR) is opened in WAL mode, so readers never wait for the
writer, with foreign keys enforced and a busy timeout so concurrent writers queue instead of
failing. Write transactions start with `BEGIN IMMEDIATE`: a read-then-write transaction (the next
message seq) takes the write lock up front instead of failing halfway when another writer got
there first. PostgreSQL needs none of this; plain `postgresql://` URLs use psycopg 3.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from app.store.migrations import MigrationReport, current_version, migrate
from app.store.repositories import (
    ActionRepository,
    AuditRepository,
    ConversationRepository,
    DirectoryRepository,
    EvalRunRepository,
    FeedbackRepository,
    ReportRepository,
    TurnRepository,
    UsageRepository,
    WebSessionRepository,
)
from app.store.types import utcnow
from app.store.write_gate import WriteGate

if TYPE_CHECKING:
    from app.config import Settings

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_S = 30  # how long a writer waits for another writer before giving up
_WRITE = "cca_write"  # execution option marking a connection that will write


def normalize_url(url: str) -> str:
    """Map `postgres://` and `postgresql://` to the psycopg 3 driver, the one installed."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _is_memory(database: str | None) -> bool:
    return not database or database == ":memory:"


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL, waiting while another connection holds a lock.

    The switch needs the database to itself and SQLite reports "database is locked" at once,
    without its busy handler, when another connection is busy: which is exactly what happens when
    several processes open a new database together. So retry, with backoff, up to the busy timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    pause = 0.005
    while True:
        try:
            mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() == "wal":
                return
            problem = f"journal mode stayed {mode!r}"
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            problem = str(exc)
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError(f"could not switch SQLite to WAL: {problem}")
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _sqlite_engine(url: str, echo: bool) -> Engine:
    sa_url = make_url(url)
    kwargs: dict[str, Any] = {
        "echo": echo,
        "connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
    }
    if _is_memory(sa_url.database):
        # One shared connection, so every session sees the same in-memory database. Fine for
        # single-threaded tests; use a file for anything concurrent.
        kwargs["poolclass"] = StaticPool
    else:
        assert sa_url.database is not None
        Path(sa_url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(sa_url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 module (which skips it for SELECT and DDL) and emit it
        # ourselves in `_on_begin`, so every transaction is a real one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not _is_memory(sa_url.database):
                _enable_wal(cursor)
                cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, much faster commits
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

    return engine


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine configured for the assistant's use of `url` (SQLite file or PostgreSQL)."""
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo)
    # pre_ping: a server restart must not break the first request after it.
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10)


class Database:
    """An engine with a read and a write session factory, and the clock repositories use.

    Repositories call `read()` or `write()` for every operation; each is one short transaction.
    """

    def __init__(self, url: str, *, echo: bool = False, clock: Callable[[], datetime] = utcnow) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url, echo=echo)
        self.clock = clock
        self._write_engine = self.engine.execution_options(**{_WRITE: True})
        self._reads = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(self._write_engine, expire_on_commit=False)
        database = make_url(self.url).database
        self._gate = (
            WriteGate(Path(f"{database}.write-lock").expanduser())
            if self.dialect == "sqlite" and not _is_memory(database)
            else None
        )

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reads.begin() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success; on SQLite it holds the write lock from the start."""
        with self._gated(), self._writes.begin() as session:
            yield session

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        with self._gated(), self._write_engine.begin() as conn:
            yield conn

    def _gated(self) -> AbstractContextManager[None]:
        return self._gate.held() if self._gate is not None else nullcontext()

    def dispose(self) -> None:
        self.engine.dispose()
        if self._gate is not None:
            self._gate.close()


class Store:
    """The assistant's persistence: open it once, share it, close it at shutdown.

    Opening creates or migrates the schema (see `migrations.py`); `migration` says what happened.
    Every repository returns frozen dataclasses from `app.store.records`, never ORM rows.
    """

    def __init__(
        self, url: str | None = None, *, echo: bool = False, clock: Callable[[], datetime] = utcnow
    ) -> None:
        if url is None:
            from app.config import get_settings

            url = get_settings().resolved_database_url
        self.db = Database(url, echo=echo, clock=clock)
        try:
            with self.db.write_connection() as conn:
                self.migration: MigrationReport = migrate(conn)
        except BaseException:
            self.db.dispose()
            raise
        log.info("store: opened %s at schema version %d", self.safe_url, self.migration.to_version)
        self.conversations = ConversationRepository(self.db)
        self.actions = ActionRepository(self.db)
        self.audit = AuditRepository(self.db)
        self.usage = UsageRepository(self.db)
        self.feedback = FeedbackRepository(self.db)
        self.turns = TurnRepository(self.db)
        self.web_sessions = WebSessionRepository(self.db)
        self.directory = DirectoryRepository(self.db)
        self.eval_runs = EvalRunRepository(self.db)
        self.reports = ReportRepository(self.db)

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Store:
        """The store at DATABASE_URL, or the SQLite file in DATA_DIR when it is unset."""
        return cls(settings.resolved_database_url, **kwargs)

    @property
    def engine(self) -> Engine:
        return self.db.engine

    @property
    def dialect(self) -> str:
        return self.db.dialect

    @property
    def safe_url(self) -> str:
        """The URL with any password masked, for logs and the dashboard."""
        return make_url(self.db.url).render_as_string(hide_password=True)

    def schema_version(self) -> int:
        with self.db.read() as session:
            return current_version(session.connection())

    def close(self) -> None:
        """Close every pooled connection; the Store must not be used afterwards."""
        self.db.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
