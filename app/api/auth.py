"""Who is calling: the platform's bearer token, checked with the platform itself.

The user, role and organization always come from the platform's `/users/me` for that token, never
from what a client claims (a widget's `user_context` is ignored). A verified token is trusted for
AUTH_CACHE_SECONDS, so a chatty socket does not ask the platform on every frame; a token the
platform refuses is an AuthError, which the socket turns into close code 4401.
"""

from __future__ import annotations

import threading
import time

from app.permissions.policy import UserContext
from app.platform.errors import PlatformError, PlatformUnavailableError
from app.services import Services


class AuthError(Exception):
    """No token, or one the platform refuses; the message says which."""


class Authenticator:
    def __init__(self, services: Services, ttl_s: float) -> None:
        self.services = services
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, UserContext]] = {}
        self._lock = threading.Lock()

    def user(self, token: str | None) -> UserContext:
        token = (token or "").strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        if not token:
            raise AuthError(
                "a platform access token is required (?token=, an Authorization header, or init.auth_token)"
            )
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(token)
        if cached is not None and cached[0] > now:
            return cached[1]
        probe = UserContext("", "", "", "", None, token)
        try:
            user = self.services.refresh_user(probe)
        except PlatformUnavailableError as exc:
            raise AuthError(
                f"the platform is unreachable, so the token cannot be checked: {exc.detail}"
            ) from exc
        except PlatformError as exc:
            raise AuthError(f"the platform refused the token ({exc.status}): {exc.detail}") from exc
        with self._lock:
            if len(self._cache) > 10_000:  # a bounded cache: drop the expired, then everything if still big
                self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
                if len(self._cache) > 10_000:
                    self._cache.clear()
            self._cache[token] = (now + self.ttl_s, user)
        return user
