"""Column types that behave the same on SQLite and PostgreSQL.

The same SQLAlchemy models serve the embedded SQLite file and a PostgreSQL server, and the two
disagree on three things the store cares about: SQLite keeps no time zone, has no JSONB, and has no
exact decimal. These types hide the differences so repositories and tests never branch on the
database.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Float, Numeric, String, func, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine

#: Money is kept to 10 decimal places: the cheapest token price in the table ($0.01 per million
#: tokens, a Haiku 5.5 cache read) is 1e-8 dollars per token, so one token stays representable.
MONEY_PLACES = Decimal("1e-10")

#: JSON everywhere; JSONB on PostgreSQL so the dashboard can index into details later.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def new_id() -> str:
    """A random UUID as text: ids are strings so they travel through JSON, URLs and logs unchanged."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """The current time, aware and in UTC: the only kind of datetime the store accepts."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Normalise to aware UTC. A naive datetime is taken to be UTC already (what SQLite returns)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always aware UTC in Python.

    PostgreSQL stores `timestamptz`; SQLite stores naive UTC text (which still sorts and compares
    correctly as text). Reading converts both back to aware UTC, so a value round-trips unchanged.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class Money(TypeDecorator[Decimal]):
    """US dollars as `Decimal`, 10 decimal places.

    PostgreSQL keeps them exactly in NUMERIC(20, 10). SQLite has no decimal type, so there they are
    stored as REAL (15-16 significant digits, far beyond what per-call costs need) and read back
    rounded to 10 places, so a cost written is the cost read on both backends.
    """

    impl = Numeric(20, 10)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Float())
        return dialect.type_descriptor(Numeric(20, 10))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value).quantize(MONEY_PLACES)
        return float(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)).quantize(MONEY_PLACES)


def day_of(column: Any, dialect: str) -> ColumnElement[Any]:
    """The UTC day ("YYYY-MM-DD") of a UTCDateTime column, computed by the database.

    PostgreSQL keeps timestamptz (converted to UTC first); SQLite keeps naive UTC text
    "YYYY-MM-DD HH:MM:SS.ffffff", whose first ten characters are the day.
    """
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(type_coerce(column, String()), 1, 10)
