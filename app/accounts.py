"""Who is signed in to the dashboard: demo accounts, and browser sessions that survive a reload.

The dashboard signs users in against the platform (their own email and password) and then acts
with the platform token it got back. A reload of the page starts a new Streamlit session, so the
signed-in user is kept server-side, in the store, under the hash of a random secret the browser
keeps in a cookie; the session ends when the platform token does, or at sign-out. On restore the
token is checked with the platform again, so a removed or demoted user is not let back in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from app.permissions.policy import UserContext
from app.store.db import Store

SESSION_COOKIE = "cca_session"
DEFAULT_TOKEN_TTL = timedelta(minutes=60)  # when the platform's token says nothing about its expiry


@dataclass(frozen=True)
class DemoAccount:
    """A seeded sandbox user the sign-in page offers with one click (embedded sandbox only)."""

    email: str
    password: str
    full_name: str
    role: str
    organization: str  # the organization's name; "(platform)" for the site admin


def demo_accounts() -> list[DemoAccount]:
    """One account per role and organization of the bundled sandbox's demo world."""
    from sandbox.seed import DEMO_LOGINS
    from sandbox.seed_data import ORGANIZATIONS, SITE_ADMIN

    names = {SITE_ADMIN.email: SITE_ADMIN.full_name}
    for org in ORGANIZATIONS:
        names.update({u.email: u.full_name for u in org.users})
    accounts = [
        DemoAccount(
            SITE_ADMIN.email, SITE_ADMIN.password or "", SITE_ADMIN.full_name, "site_admin", "(platform)"
        )
    ]
    for org in ORGANIZATIONS:
        for role in ("organization_admin", "instructor", "student"):
            email, password = DEMO_LOGINS[org.slug][role]
            accounts.append(DemoAccount(email, password, names.get(email, email), role, org.name))
    return accounts


def user_to_dict(user: UserContext) -> dict[str, Any]:
    return {
        "user_id": user.user_id,
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "organization_id": user.organization_id,
        "token": user.token,
        "platform_permissions": sorted(user.platform_permissions)
        if user.platform_permissions is not None
        else None,
    }


def user_from_dict(data: dict[str, Any]) -> UserContext:
    permissions = data.get("platform_permissions")
    return UserContext(
        user_id=str(data["user_id"]),
        email=str(data["email"]),
        full_name=str(data.get("full_name") or ""),
        role=str(data["role"]),
        organization_id=data.get("organization_id"),
        token=str(data["token"]),
        platform_permissions=frozenset(permissions) if permissions is not None else None,
    )


def token_expiry(token: str, now: datetime) -> datetime:
    """When a platform token expires: its JWT `exp`, else DEFAULT_TOKEN_TTL from now."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        return datetime.fromtimestamp(float(claims["exp"]), UTC)
    except (jwt.PyJWTError, KeyError, TypeError, ValueError, OverflowError):
        return now + DEFAULT_TOKEN_TTL


def open_session(store: Store, user: UserContext) -> tuple[str, datetime]:
    """Remember a signed-in user; returns the secret for the browser's cookie and when it expires."""
    secret = secrets.token_urlsafe(32)
    expires = token_expiry(user.token, store.db.clock())
    store.web_sessions.purge_expired()
    store.web_sessions.create(secret, user_id=user.user_id, user=user_to_dict(user), expires_at=expires)
    return secret, expires


def stored_user(store: Store, secret: str) -> UserContext | None:
    """The user of a live session, as signed in (check the token with the platform before use)."""
    if not secret:
        return None
    found = store.web_sessions.get(secret)
    return user_from_dict(found.user) if found is not None else None


def close_session(store: Store, secret: str) -> None:
    store.web_sessions.delete(secret)
