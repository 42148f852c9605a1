"""What every request and socket of the service shares: the services, who is calling, the metrics."""

from __future__ import annotations

from dataclasses import dataclass

from app.api.auth import Authenticator
from app.api.metrics import Metrics
from app.conversation.follower import StoreWatch
from app.services import Services


@dataclass
class AssistantState:
    services: Services
    auth: Authenticator
    metrics: Metrics
    watch: StoreWatch

    @staticmethod
    def of(services: Services) -> AssistantState:
        return AssistantState(
            services,
            Authenticator(services, services.settings.auth_cache_seconds),
            Metrics(services.bus),
            StoreWatch(services.store),
        )
