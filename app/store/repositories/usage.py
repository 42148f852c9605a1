"""Usage records (one per model call) and the totals the dashboard and the budget read.

Totals are computed by the database (GROUP BY), not by loading rows, so the dashboard stays fast
as the table grows; the version 2 indexes on `at`, (user_id, at) and (organization_id, at) serve
the date-range filters. Days are UTC days on both backends.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, case, func, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from app.store.models import UsageRecord
from app.store.records import UsageGroup, UsageRecordData, UsageTotals
from app.store.types import Money, as_utc, day_of

if TYPE_CHECKING:
    from app.store.sessions import SessionSource

ZERO = Decimal("0E-10")


def utc_day_start(moment: datetime) -> datetime:
    """Midnight UTC of the day `moment` falls on."""
    moment = as_utc(moment)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def next_utc_midnight(moment: datetime) -> datetime:
    return utc_day_start(moment) + timedelta(days=1)


class UsageRepository:
    def __init__(self, db: SessionSource) -> None:
        self._db = db

    def add(
        self,
        *,
        provider: str,
        model: str,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_write_tokens: int = 0,
        cache_read_tokens: int = 0,
        latency_ms: float = 0.0,
        cost_usd: Decimal | None = None,
        estimated: bool = False,
        conversation_id: str | None = None,
        user_id: str | None = None,
        organization_id: str | None = None,
        at: datetime | None = None,
    ) -> UsageRecordData:
        row = UsageRecord(
            at=at or self._db.clock(),
            conversation_id=conversation_id,
            user_id=user_id,
            organization_id=organization_id,
            provider=provider,
            model=model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_write_tokens=cache_write_tokens,
            cache_read_tokens=cache_read_tokens,
            latency_ms=float(latency_ms),
            cost_usd=cost_usd,
            estimated=estimated,
        )
        with self._db.write() as session:
            session.add(row)
            session.flush()
            session.refresh(row)  # read back what was stored (cost rounded to MONEY_PLACES)
            return UsageRecordData.of(row)

    def list(
        self,
        *,
        user_id: str | None = None,
        organization_id: str | None = None,
        conversation_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 200,
    ) -> list[UsageRecordData]:
        """Recorded calls, newest first; `since` <= at < `until`."""
        stmt = self._filtered(select(UsageRecord), user_id, organization_id, conversation_id, since, until)
        stmt = stmt.order_by(UsageRecord.at.desc(), UsageRecord.id).limit(limit)
        with self._db.read() as session:
            return [UsageRecordData.of(row) for row in session.scalars(stmt)]

    def totals(
        self,
        group_by: UsageGroup | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: str | None = None,
        organization_id: str | None = None,
        conversation_id: str | None = None,
    ) -> builtins.list[UsageTotals]:
        """Sums per group over `since` <= at < `until` (UTC).

        `group_by=None` gives one row (key None) over everything matched, or none if nothing
        matched. Days are "YYYY-MM-DD" keys in date order; other groups come most expensive first.
        """
        key = self._group_key(group_by)
        columns: list[Any] = [
            key.label("key"),
            func.count().label("calls"),
            func.coalesce(func.sum(UsageRecord.input_tokens), 0).label("input_tokens"),
            func.coalesce(func.sum(UsageRecord.output_tokens), 0).label("output_tokens"),
            func.coalesce(func.sum(UsageRecord.cache_write_tokens), 0).label("cache_write_tokens"),
            func.coalesce(func.sum(UsageRecord.cache_read_tokens), 0).label("cache_read_tokens"),
            type_coerce(func.sum(UsageRecord.cost_usd), Money()).label("cost_usd"),
            func.coalesce(func.sum(case((UsageRecord.cost_usd.is_(None), 1), else_=0)), 0).label("unpriced"),
            func.coalesce(func.sum(case((UsageRecord.estimated, 1), else_=0)), 0).label("estimated"),
            func.coalesce(func.avg(UsageRecord.latency_ms), 0.0).label("latency"),
        ]
        stmt = self._filtered(select(*columns), user_id, organization_id, conversation_id, since, until)
        if group_by is not None:
            stmt = stmt.group_by(key)
        with self._db.read() as session:
            rows = session.execute(stmt).all()
        totals = [
            UsageTotals(
                key=row.key,
                calls=int(row.calls),
                input_tokens=int(row.input_tokens),
                output_tokens=int(row.output_tokens),
                cache_write_tokens=int(row.cache_write_tokens),
                cache_read_tokens=int(row.cache_read_tokens),
                cost_usd=row.cost_usd if row.cost_usd is not None else ZERO,
                unpriced_calls=int(row.unpriced),
                latency_ms_avg=float(row.latency),
                estimated_calls=int(row.estimated),
            )
            for row in rows
            if row.calls
        ]
        if group_by == "day":
            return sorted(totals, key=lambda t: t.key or "")
        return sorted(totals, key=lambda t: (-t.cost_usd, -t.calls, t.key or ""))

    def grouped(
        self,
        keys: Sequence[UsageGroup],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: str | None = None,
        organization_id: str | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Sums per combination of `keys` (e.g. day and model), as dicts named after the keys.

        `cost_usd` sums priced calls (None when none in the group had a price); `unpriced_calls`
        counts the rest. Computed by the database (GROUP BY), never by loading rows.
        """
        exprs = [self._group_key(key) for key in keys]  # the same objects in SELECT and GROUP BY (PostgreSQL)
        columns: list[Any] = [expr.label(key) for expr, key in zip(exprs, keys, strict=True)]
        columns += [
            func.count().label("calls"),
            func.coalesce(func.sum(UsageRecord.input_tokens), 0).label("input_tokens"),
            func.coalesce(func.sum(UsageRecord.output_tokens), 0).label("output_tokens"),
            func.coalesce(func.sum(UsageRecord.cache_write_tokens), 0).label("cache_write_tokens"),
            func.coalesce(func.sum(UsageRecord.cache_read_tokens), 0).label("cache_read_tokens"),
            type_coerce(func.sum(UsageRecord.cost_usd), Money()).label("cost_usd"),
            func.coalesce(func.sum(case((UsageRecord.cost_usd.is_(None), 1), else_=0)), 0).label("unpriced"),
            func.coalesce(func.sum(case((UsageRecord.estimated, 1), else_=0)), 0).label("estimated"),
            func.coalesce(func.sum(UsageRecord.latency_ms), 0.0).label("latency_ms"),
        ]
        stmt = self._filtered(select(*columns), user_id, organization_id, None, since, until)
        stmt = stmt.group_by(*exprs)
        with self._db.read() as session:
            rows = session.execute(stmt).all()
        out = []
        for row in rows:
            item: dict[str, Any] = {key: getattr(row, key) for key in keys}
            item.update(
                calls=int(row.calls), input_tokens=int(row.input_tokens), output_tokens=int(row.output_tokens),
                cache_write_tokens=int(row.cache_write_tokens), cache_read_tokens=int(row.cache_read_tokens),
                cost_usd=float(row.cost_usd) if row.cost_usd is not None else None,
                unpriced_calls=int(row.unpriced), estimated_calls=int(row.estimated),
                latency_ms=float(row.latency_ms),
            )  # fmt: skip
            out.append(item)
        return out

    def cost_between(self, user_id: str, since: datetime, until: datetime) -> Decimal:
        """What `user_id`'s priced calls cost over `since` <= at < `until`."""
        stmt = select(type_coerce(func.sum(UsageRecord.cost_usd), Money())).where(
            UsageRecord.user_id == user_id, UsageRecord.at >= since, UsageRecord.at < until
        )
        with self._db.read() as session:
            value = session.scalar(stmt)
        return value if value is not None else ZERO

    def cost_today(self, user_id: str, now: datetime | None = None) -> Decimal:
        """What `user_id` has spent since the last UTC midnight (the budget's day)."""
        now = now or self._db.clock()
        return self.cost_between(user_id, utc_day_start(now), next_utc_midnight(now))

    # -- helpers ---------------------------------------------------------------------------------

    def _group_key(self, group_by: UsageGroup | None) -> ColumnElement[Any]:
        if group_by is None:
            return type_coerce(None, String())
        if group_by == "day":
            return day_of(UsageRecord.at, self._db.dialect)
        columns: dict[str, ColumnElement[Any]] = {
            "model": UsageRecord.model.expression,
            "provider": UsageRecord.provider.expression,
            "user": UsageRecord.user_id.expression,
            "organization": UsageRecord.organization_id.expression,
            "conversation": UsageRecord.conversation_id.expression,
        }
        column = columns.get(group_by)
        if column is None:
            raise ValueError(f"cannot group usage by {group_by!r}")
        return column

    @staticmethod
    def _filtered(
        stmt: Any,
        user_id: str | None,
        organization_id: str | None,
        conversation_id: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> Any:
        if user_id is not None:
            stmt = stmt.where(UsageRecord.user_id == user_id)
        if organization_id is not None:
            stmt = stmt.where(UsageRecord.organization_id == organization_id)
        if conversation_id is not None:
            stmt = stmt.where(UsageRecord.conversation_id == conversation_id)
        if since is not None:
            stmt = stmt.where(UsageRecord.at >= since)
        if until is not None:
            stmt = stmt.where(UsageRecord.at < until)
        return stmt
