"""Schema creation and ordered migrations, run every time a Store opens.

Why not Alembic: the schema is small, it must upgrade itself on start in a demo that is one
`make run`, and the same code must work on an embedded SQLite file and on PostgreSQL. A
`schema_version` table plus an ordered list of steps is all that takes.

- A fresh database gets `create_all` of the current models and is stamped with every version, so
  its history reads as fully migrated.
- A database at an older version gets each later step, in order, each recorded as it is applied.
- Opening an up-to-date database changes nothing (idempotent restarts).
- All of it runs in one transaction holding a lock (SQLite `BEGIN IMMEDIATE`, a PostgreSQL
  advisory lock), so two processes starting at once do not both migrate; both backends have
  transactional DDL, so a failed step leaves the database at its old version.

Adding a step: write a function of a `Connection`, append a `Migration` with the next version,
and change the models so that `create_all` on a fresh database builds the same end state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, inspect, select, text

from app.store.models import (
    QUERY_INDEXES,
    TURN_TABLES,
    V4_INDEXES,
    V4_TABLES,
    V4_TURN_COLUMNS,
    Base,
    PendingAction,
    SchemaVersion,
    Turn,
    UsageRecord,
)
from app.store.types import utcnow

log = logging.getLogger(__name__)

#: Version 1 is the baseline schema: tables, keys, unique constraints, foreign-key indexes.
BASELINE = (1, "baseline: conversations, messages, pending actions, audit log, usage, feedback")

# Any fixed 64-bit number works; every process of the assistant must use the same one.
_PG_MIGRATION_LOCK = 0x6363615F73746F72  # "cca_stor"


class SchemaError(RuntimeError):
    """The database cannot be used by this version of the code (and nothing was changed)."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """What opening the store did to the schema; logged, and handy in tests."""

    from_version: int  # 0 for a database that had no schema at all
    to_version: int
    applied: tuple[int, ...]
    created: bool


def _add_query_indexes(conn: Connection) -> None:
    """Version 2: indexes for the dashboard's date-range totals, per-user lists and action expiry."""
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            if index.name in QUERY_INDEXES:
                index.create(conn, checkfirst=True)


def _add_turns(conn: Connection) -> None:
    """Version 3: turns with their numbered events, browser sessions, and each action's changes."""
    Base.metadata.create_all(conn, tables=[Base.metadata.tables[name] for name in TURN_TABLES])
    _add_columns(conn, PendingAction.__table__, ("changes",))


def _add_analytics(conn: Connection) -> None:
    """Version 4: the user directory, evaluation runs, and each turn's summary for analytics."""
    Base.metadata.create_all(conn, tables=[Base.metadata.tables[name] for name in V4_TABLES])
    _add_columns(conn, Turn.__table__, V4_TURN_COLUMNS)
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            if index.name in V4_INDEXES:
                index.create(conn, checkfirst=True)


def _add_columns(conn: Connection, table: Any, names: tuple[str, ...]) -> None:
    """ALTER TABLE ... ADD COLUMN for each missing column, typed as the model says (nullable or defaulted)."""
    present = {c["name"] for c in inspect(conn).get_columns(table.name)}
    for name in names:
        if name in present:
            continue
        column = table.c[name]
        kind = column.type.compile(dialect=conn.dialect)
        default = (
            column.default.arg if column.default is not None and not callable(column.default.arg) else None
        )
        suffix = f" NOT NULL DEFAULT {default!r}" if default is not None else ""
        conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}{suffix}"))


def _add_usage_estimated(conn: Connection) -> None:
    """Version 5: usage_records.estimated (the server reported no usage; the counts are estimated)."""
    _add_columns(conn, UsageRecord.__table__, ("estimated",))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        2, "indexes for usage/audit date ranges, conversation lists, action expiry", _add_query_indexes
    ),
    Migration(3, "turns, turn events, web sessions; pending_actions.changes", _add_turns),
    Migration(4, "user directory, evaluation runs, turn summaries", _add_analytics),
    Migration(5, "usage_records.estimated", _add_usage_estimated),
)

LATEST_VERSION = MIGRATIONS[-1].version if MIGRATIONS else BASELINE[0]


def _lock(conn: Connection) -> None:
    # SQLite: the caller's connection already began with BEGIN IMMEDIATE (see db.py).
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})


def current_version(conn: Connection) -> int:
    """The schema version of the database behind `conn`; 0 if it has no schema_version table."""
    if not inspect(conn).has_table(SchemaVersion.__tablename__):
        return 0
    return int(conn.execute(select(func.coalesce(func.max(SchemaVersion.version), 0))).scalar_one())


def _stamp(conn: Connection, version: int, description: str) -> None:
    conn.execute(insert(SchemaVersion).values(version=version, description=description, applied_at=utcnow()))


def migrate(conn: Connection) -> MigrationReport:
    """Bring the schema behind `conn` (an open write transaction) to LATEST_VERSION."""
    _lock(conn)
    version = current_version(conn)
    if version == 0:
        ours = set(inspect(conn).get_table_names()) & set(Base.metadata.tables)
        ours.discard(SchemaVersion.__tablename__)
        if ours:
            raise SchemaError(
                f"the database has assistant tables ({', '.join(sorted(ours))}) but no schema version, "
                "so what they hold is unknown; refusing to guess. Point DATABASE_URL at a new "
                "database, or restore its schema_version rows."
            )
        Base.metadata.create_all(conn)
        _stamp(conn, *BASELINE)
        for step in MIGRATIONS:
            _stamp(conn, step.version, step.description)
        log.info("store: created schema version %d", LATEST_VERSION)
        return MigrationReport(0, LATEST_VERSION, (), created=True)

    if version > LATEST_VERSION:
        raise SchemaError(
            f"the database is at schema version {version}, newer than this code knows "
            f"({LATEST_VERSION}); upgrade the assistant before using this database"
        )
    applied: list[int] = []
    for step in MIGRATIONS:
        if step.version > version:
            log.info("store: migrating schema %d -> %d: %s", version, step.version, step.description)
            step.apply(conn)
            _stamp(conn, step.version, step.description)
            applied.append(step.version)
    return MigrationReport(version, LATEST_VERSION, tuple(applied), created=False)
