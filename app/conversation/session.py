"""Everything a turn needs, in one bundle the composition root builds (see app/services.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from app.actions.service import ActionService
from app.config import Settings
from app.permissions.policy import UserContext
from app.platform.client import PlatformClient
from app.providers.base import Provider
from app.retrieval.service import RetrievalService
from app.store.db import Store
from app.tools.registry import ToolRegistry
from app.usage.ledger import UsageLedger
from app.usage.limits import DailyBudget, RateLimiter


@dataclass
class TurnDeps:
    settings: Settings
    store: Store
    provider: Provider
    registry: ToolRegistry
    actions: ActionService
    retrieval: RetrievalService | None
    ledger: UsageLedger
    budget: DailyBudget
    rate_limiter: RateLimiter
    platform_base_url: str
    platform_transport: httpx.BaseTransport | None = None

    def platform_for(self, user: UserContext) -> PlatformClient:
        """A client acting with this user's own token."""
        return PlatformClient(
            self.platform_base_url, user.token, self.settings.platform_timeout_s, self.platform_transport
        )

    def search_dicts(self, query: str, k: int) -> list[dict[str, Any]]:
        return self.retrieval.search_dicts(query, k) if self.retrieval else []
