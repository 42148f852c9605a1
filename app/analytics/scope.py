"""Whose data a report covers, and over which days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from app.permissions.policy import UserContext

ADMIN_ROLES = ("site_admin", "organization_admin")


@dataclass(frozen=True)
class Scope:
    """One organization's data, or every organization's (`organization_id` None: site admins only)."""

    organization_id: str | None

    @property
    def everything(self) -> bool:
        return self.organization_id is None


def can_see_reports(user: UserContext) -> bool:
    return user.role in ADMIN_ROLES


def scope_for(user: UserContext, organization_id: str | None = None) -> Scope:
    """A site admin sees every organization (or the one picked); an organization admin only theirs."""
    if user.role == "site_admin":
        return Scope(organization_id)
    if user.role == "organization_admin" and user.organization_id:
        return Scope(user.organization_id)
    raise PermissionError("Only administrators see the operator pages.")


@dataclass(frozen=True)
class Period:
    """UTC days `first` .. `last`, both included."""

    first: date
    last: date

    @staticmethod
    def last_days(days: int, today: date | None = None) -> Period:
        today = today or datetime.now(UTC).date()
        return Period(today - timedelta(days=max(1, days) - 1), today)

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first, time(0), UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), UTC)

    @property
    def days(self) -> list[str]:
        return [
            (self.first + timedelta(days=i)).isoformat() for i in range((self.last - self.first).days + 1)
        ]
