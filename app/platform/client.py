"""A small, typed-enough client of the platform's `/api/v1` REST API (httpx, synchronous).

Every call carries the acting user's own bearer token, so the platform enforces that user's
permissions too: the assistant holds no key that can do more than the person it acts for. Writes
may carry an Idempotency-Key, which the platform uses to make a retried request harmless.
"""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import certifi
import httpx

from app.platform.errors import PlatformError, PlatformUnavailableError

JSON = Any


@dataclass(frozen=True)
class PlatformUser:
    """Who the assistant acts for, as the platform describes them."""

    id: str
    email: str
    full_name: str
    role: str
    organization_id: str | None
    permissions: frozenset[str]

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> PlatformUser:
        org = data.get("organization_id")
        return PlatformUser(
            id=str(data["id"]),
            email=str(data.get("email", "")),
            full_name=str(data.get("full_name", "")),
            role=str(data.get("role", "")),
            organization_id=str(org) if org else None,
            permissions=frozenset(str(p) for p in data.get("permissions", [])),
        )


@dataclass(frozen=True)
class PlatformSession:
    token: str
    user: PlatformUser


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every client: a client is made per user and turn, and loading the CA
    bundle into a new context costs about 40 ms of CPU each time (more than the rest of an
    offline turn)."""
    cafile = os.environ.get("SSL_CERT_FILE") or certifi.where()  # as httpx honours it
    return ssl.create_default_context(cafile=cafile)


class PlatformClient:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout_s: float = 15.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Accept": "application/json", "User-Agent": "course-creator-assistant"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
            verify=_tls_context(),
        )
        self._timeout_s = timeout_s
        self._transport = transport

    def with_token(self, token: str) -> PlatformClient:
        """A client for the same platform acting as another user."""
        return PlatformClient(self.base_url, token, self._timeout_s, self._transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport -----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: JSON = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> JSON:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(method, path, json=json, params=clean or None, headers=headers)
        except httpx.TimeoutException as exc:
            raise PlatformUnavailableError(
                504, f"no answer within {self._timeout_s:g} s ({type(exc).__name__})"
            ) from exc
        except httpx.TransportError as exc:
            raise PlatformUnavailableError(
                503, f"cannot reach the platform at {self.base_url}: {exc}"
            ) from exc
        if response.status_code >= 500:
            raise PlatformUnavailableError(response.status_code, _detail(response) or "server error")
        if response.status_code >= 400:
            body = _json(response)
            field = body.get("field") if isinstance(body, dict) else None
            rule = body.get("rule") if isinstance(body, dict) else None
            raise PlatformError(
                response.status_code,
                _detail(response) or response.reason_phrase,
                field=field,
                rule=rule,
                body=body,
            )
        if response.status_code == 204 or not response.content:
            return None
        return _json(response)

    def get(self, path: str, **params: Any) -> JSON:
        return self.request("GET", path, params=params)

    def post(
        self, path: str, body: JSON = None, *, idempotency_key: str | None = None, **params: Any
    ) -> JSON:
        return self.request("POST", path, json=body, params=params, idempotency_key=idempotency_key)

    def put(self, path: str, body: JSON, *, idempotency_key: str | None = None) -> JSON:
        return self.request("PUT", path, json=body, idempotency_key=idempotency_key)

    def delete(self, path: str, *, idempotency_key: str | None = None, **params: Any) -> JSON:
        return self.request("DELETE", path, params=params, idempotency_key=idempotency_key)

    def list_all(self, path: str, limit: int = 100, max_items: int = 1000, **params: Any) -> list[JSON]:
        """Every item of a paged list endpoint ({"items", "total", "limit", "offset"})."""
        items: list[JSON] = []
        offset = 0
        while True:
            page = self.get(path, limit=limit, offset=offset, **params)
            if not isinstance(page, dict) or "items" not in page:
                return list(page) if isinstance(page, list) else items
            items.extend(page["items"])
            offset += len(page["items"])
            if not page["items"] or offset >= int(page.get("total", 0)) or len(items) >= max_items:
                return items

    # --- session -------------------------------------------------------------------------------
    def login(self, email: str, password: str) -> PlatformSession:
        data = self.post("/auth/login", {"email": email, "password": password})
        return PlatformSession(str(data["access_token"]), PlatformUser.from_json(data["user"]))

    def me(self) -> PlatformUser:
        return PlatformUser.from_json(self.get("/users/me"))


def _json(response: httpx.Response) -> JSON:
    try:
        return response.json()
    except ValueError:
        return {"detail": response.text[:500]}


def _detail(response: httpx.Response) -> str:
    body = _json(response)
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, str):
            return detail
        if detail is not None:
            return str(detail)[:500]
    return response.text[:300]
