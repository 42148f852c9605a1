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
from app.tools.base import ToolContext
from app.tools.registry import ToolRegistry
from app.usage.ledger import UsageLedger
from app.usage.limits import DailyBudget, RateLimiter
from indexing.file_lines import FileLines, FileLinesError


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

    def read_file(self, path: str, start: int, end: int | None) -> FileLines:
        if self.retrieval is None:
            raise FileLinesError("The documentation index is not available right now.")
        return self.retrieval.read_file(path, start, end)

    def tool_context(self, user: UserContext, platform: PlatformClient) -> ToolContext:
        """What the tools of a turn run with: the user's platform client and the index."""
        return ToolContext(user, platform, self.search_dicts, read_file=self.read_file)
