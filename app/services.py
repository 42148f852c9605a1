"""The composition root: everything the assistant needs, built from settings in one place.

The dashboard, the terminal chat and the API server call `build_services()` and get the same
objects; tests call it with their own Settings and, where they need one, their own provider.
With PLATFORM_BASE_URL unset the bundled sandbox platform starts in-process on a free local port
(real HTTP, as with a remote platform), seeded on first start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from app.actions.service import ActionService
from app.config import Settings, get_settings
from app.conversation.bus import EventBus, build_bus
from app.conversation.runner import TurnRunner
from app.conversation.session import TurnDeps
from app.jobs import JobRunner
from app.permissions.policy import UserContext
from app.platform.client import PlatformClient
from app.providers.base import Provider
from app.providers.registry import build_provider, provider_mode_label, resolve_provider_name
from app.retrieval.service import RetrievalService
from app.store.db import Store
from app.tools.catalog import default_registry
from app.tools.registry import ToolRegistry
from app.usage.ledger import UsageLedger
from app.usage.limits import DailyBudget, RateLimiter, build_budget, build_rate_limiter
from app.usage.pricing import PricingTable

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    store: Store
    pricing: PricingTable
    ledger: UsageLedger
    budget: DailyBudget
    rate_limiter: RateLimiter
    registry: ToolRegistry
    actions: ActionService
    retrieval: RetrievalService
    provider: Provider
    provider_name: str
    platform_base_url: str
    sandbox: Any = None  # sandbox.server.RunningSandbox when the bundled platform runs in-process
    _closed: bool = field(default=False, repr=False)
    _runner: TurnRunner | None = field(default=None, repr=False)
    jobs: JobRunner = field(default_factory=JobRunner, repr=False)  # evaluation runs, index builds

    _bus: EventBus | None = field(default=None, repr=False)

    @property
    def bus(self) -> EventBus:
        """Where every turn's events are published: in-process, and through Redis when REDIS_URL is set."""
        if self._bus is None:
            try:
                self._bus = build_bus(self.settings.redis_url, self.settings.redis_key_prefix)
            except Exception as exc:  # Redis down: this process still works, alone
                log.warning(
                    "REDIS_URL is set but Redis does not answer (%s); events stay in this process", exc
                )
                self._bus = EventBus()
        return self._bus

    @property
    def runner(self) -> TurnRunner:
        """The process's turn runner (worker threads), made on first use."""
        if self._runner is None:
            self._runner = TurnRunner(self.store, bus=self.bus)
        return self._runner

    @property
    def mode_label(self) -> str:
        return provider_mode_label(self.settings, self.provider_name)

    def turn_deps(self, provider: Provider | None = None) -> TurnDeps:
        return TurnDeps(
            settings=self.settings,
            store=self.store,
            provider=provider or self.provider,
            registry=self.registry,
            actions=self.actions,
            retrieval=self.retrieval,
            ledger=self.ledger,
            budget=self.budget,
            rate_limiter=self.rate_limiter,
            platform_base_url=self.platform_base_url,
        )

    def platform(self, token: str | None = None) -> PlatformClient:
        return PlatformClient(self.platform_base_url, token, self.settings.platform_timeout_s)

    def sign_in(self, email: str, password: str) -> UserContext:
        """Log in to the platform as a user; the assistant then acts with that user's token."""
        with self.platform() as client:
            session = client.login(email, password)
        user = _user_of(session.user, session.token)
        self.remember(user)
        return user

    def remember(self, user: UserContext) -> None:
        """Keep who this user id is (name, email, organization) for the dashboard's reports."""
        try:
            self.store.directory.remember(
                user_id=user.user_id, email=user.email, full_name=user.full_name, role=user.role,
                organization_id=user.organization_id,
                organization_name=self.organization_name(user) if user.organization_id else "",
            )  # fmt: skip
        except Exception:  # a report's names must never block a sign-in
            log.warning("could not record %s in the directory", user.email, exc_info=True)

    def refresh_user(self, user: UserContext) -> UserContext:
        """The user as the platform sees them now (raises PlatformError if the token is no longer good)."""
        with self.platform(user.token) as client:
            return _user_of(client.me(), user.token)

    def organization_name(self, user: UserContext) -> str:
        """The user's organization by name ("" for none; the id if the platform cannot say)."""
        if not user.organization_id:
            return ""
        try:
            with self.platform(user.token) as client:
                return str(
                    client.get(f"/organizations/{user.organization_id}").get("name") or user.organization_id
                )
        except Exception:
            return user.organization_id

    @property
    def embedded_platform(self) -> bool:
        """True when the bundled sandbox runs in this process (its demo accounts may be offered)."""
        return self.sandbox is not None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._runner is not None:
            self._runner.shutdown()
        if self._bus is not None:
            self._bus.close()
        if self.sandbox is not None:
            self.sandbox.stop()
        self.store.close()


def _user_of(u: Any, token: str) -> UserContext:
    return UserContext(
        user_id=u.id,
        email=u.email,
        full_name=u.full_name,
        role=u.role,
        organization_id=u.organization_id,
        token=token,
        platform_permissions=u.permissions or None,
    )


def start_bundled_sandbox(settings: Settings) -> Any:
    from sandbox.server import start_in_thread
    from sandbox.settings import SandboxSettings

    sandbox_settings = SandboxSettings(database_url=settings.resolved_sandbox_database_url)
    return start_in_thread(sandbox_settings)


def build_services(
    settings: Settings | None = None,
    *,
    provider: Provider | None = None,
    platform_base_url: str | None = None,
) -> Services:
    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.from_settings(settings)
    pricing = PricingTable.load(settings.pricing_file)
    ledger = UsageLedger(store, pricing)
    registry = default_registry()
    sandbox = None
    base_url = platform_base_url or settings.platform_base_url
    if not base_url:
        sandbox = start_bundled_sandbox(settings)
        base_url = sandbox.base_url
    name = resolve_provider_name(settings) if provider is None else provider.name
    return Services(
        settings=settings,
        store=store,
        pricing=pricing,
        ledger=ledger,
        budget=build_budget(settings, ledger),
        rate_limiter=build_rate_limiter(settings),
        registry=registry,
        actions=ActionService(
            store,
            registry,
            settings.action_ttl_minutes,
            key_window_hours=settings.platform_idempotency_window_hours,
        ),
        retrieval=RetrievalService(settings),
        provider=provider or build_provider(settings),
        provider_name=name,
        platform_base_url=base_url,
        sandbox=sandbox,
    )
