"""The usage ledger: every model call recorded with its cost, and the summaries built from it.

The turn loop calls `record` after each model call; the dashboard reads the summaries, which are
plain lists of dicts (`pandas.DataFrame(ledger.by_day(...))` works as is), and the daily budget
reads `cost_today`. Cost comes from the pricing table at the moment of the call and is stored with
the record, so a later price change never rewrites history. A model without a price is recorded
with cost null and counted in `unpriced_calls`: totals say "plus N calls of unknown cost" instead
of pretending those calls were free.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.store.records import UsageGroup, UsageRecordData, UsageTotals
from app.usage.pricing import PricingTable
from app.usage.usage import Usage

if TYPE_CHECKING:
    from app.store.db import Store

#: Providers that make no metered API call (the offline planner): their calls cost exactly 0.
UNMETERED_PROVIDERS = frozenset({"offline"})

#: The column the group key goes in, per grouping.
_KEY_COLUMN: dict[UsageGroup, str] = {
    "day": "day",
    "model": "model",
    "provider": "provider",
    "user": "user_id",
    "organization": "organization_id",
    "conversation": "conversation_id",
}


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def totals_row(totals: UsageTotals, key_column: str | None = None) -> dict[str, Any]:
    """One summary as a flat dict of numbers. `cost_usd` is None when no call in it had a price."""
    row: dict[str, Any] = {key_column: totals.key} if key_column else {}
    row.update(
        calls=totals.calls,
        input_tokens=totals.input_tokens,
        output_tokens=totals.output_tokens,
        cache_write_tokens=totals.cache_write_tokens,
        cache_read_tokens=totals.cache_read_tokens,
        total_tokens=totals.total_tokens,
        cost_usd=None if totals.unpriced_calls == totals.calls else float(totals.cost_usd),
        unpriced_calls=totals.unpriced_calls,
        estimated_calls=totals.estimated_calls,
        latency_ms_avg=round(totals.latency_ms_avg, 1),
    )
    return row


def record_row(record: UsageRecordData) -> dict[str, Any]:
    """One recorded call as a flat dict (for the dashboard's table of recent calls)."""
    return {
        "at": record.at,
        "provider": record.provider,
        "model": record.model,
        "conversation_id": record.conversation_id,
        "user_id": record.user_id,
        "organization_id": record.organization_id,
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "cache_write_tokens": record.cache_write_tokens,
        "cache_read_tokens": record.cache_read_tokens,
        "latency_ms": record.latency_ms,
        "cost_usd": _money(record.cost_usd),
        "estimated": record.estimated,
    }


class UsageLedger:
    def __init__(
        self,
        store: Store,
        pricing: PricingTable,
        *,
        unmetered_providers: Collection[str] = UNMETERED_PROVIDERS,
    ) -> None:
        self.store = store
        self.pricing = pricing
        self.unmetered_providers = frozenset(unmetered_providers)

    def price(self, provider: str, model: str, usage: Usage) -> Decimal | None:
        """What one call costs; None when the model has no price. Never raises."""
        if provider in self.unmetered_providers:
            return Decimal(0)
        return self.pricing.cost(model, usage, provider)

    def record(
        self,
        provider: str,
        model: str,
        usage: Usage,
        latency_ms: float,
        conversation_id: str | None = None,
        user_id: str | None = None,
        organization_id: str | None = None,
        *,
        at: datetime | None = None,
    ) -> UsageRecordData:
        """Store one model call with its cost (None if unpriced) and return the stored record.

        `usage` is one call's usage: long-prompt price tiers are decided per call. Database errors
        propagate; pricing errors cannot happen (an unpriced call is stored with cost None).
        """
        return self.store.usage.add(
            provider=provider,
            model=model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            latency_ms=latency_ms,
            cost_usd=self.price(provider, model, usage),
            estimated=usage.estimated,
            conversation_id=conversation_id,
            user_id=user_id,
            organization_id=organization_id,
            at=at,
        )

    # -- what the budget reads -------------------------------------------------------------------

    def cost_today(self, user_id: str, now: datetime | None = None) -> Decimal:
        """`user_id`'s priced spend since the last UTC midnight."""
        return self.store.usage.cost_today(user_id, now)

    # -- what the dashboard reads ----------------------------------------------------------------

    def summary(
        self,
        group_by: UsageGroup | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: str | None = None,
        organization_id: str | None = None,
        conversation_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Totals per group over `since` <= at < `until`, as flat dicts (see `totals_row`)."""
        totals = self.store.usage.totals(
            group_by,
            since=since,
            until=until,
            user_id=user_id,
            organization_id=organization_id,
            conversation_id=conversation_id,
        )
        key_column = _KEY_COLUMN[group_by] if group_by is not None else None
        return [totals_row(t, key_column) for t in totals]

    def total(self, **filters: Any) -> dict[str, Any]:
        """One flat dict over everything matching the filters (zeros when nothing matched)."""
        rows = self.summary(None, **filters)
        if rows:
            return rows[0]
        empty = UsageTotals(None, 0, 0, 0, 0, 0, Decimal(0), 0, 0.0)
        return {**totals_row(empty), "cost_usd": 0.0}

    def by_day(self, **filters: Any) -> list[dict[str, Any]]:
        return self.summary("day", **filters)

    def by_model(self, **filters: Any) -> list[dict[str, Any]]:
        return self.summary("model", **filters)

    def by_provider(self, **filters: Any) -> list[dict[str, Any]]:
        return self.summary("provider", **filters)

    def by_user(self, **filters: Any) -> list[dict[str, Any]]:
        return self.summary("user", **filters)

    def by_organization(self, **filters: Any) -> list[dict[str, Any]]:
        return self.summary("organization", **filters)

    def by_conversation(self, **filters: Any) -> list[dict[str, Any]]:
        return self.summary("conversation", **filters)

    def conversation_total(self, conversation_id: str) -> dict[str, Any]:
        """What one conversation has used and cost so far (the chat page's running total)."""
        return self.total(conversation_id=conversation_id)

    def recent(
        self,
        *,
        limit: int = 100,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: str | None = None,
        organization_id: str | None = None,
        conversation_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """The latest recorded calls, newest first, as flat dicts."""
        records = self.store.usage.list(
            user_id=user_id,
            organization_id=organization_id,
            conversation_id=conversation_id,
            since=since,
            until=until,
            limit=limit,
        )
        return [record_row(r) for r in records]
