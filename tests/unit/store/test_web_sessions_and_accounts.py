"""Browser sessions: a reload keeps the user signed in until their platform token expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from app.accounts import (
    DEFAULT_TOKEN_TTL,
    close_session,
    demo_accounts,
    open_session,
    stored_user,
    token_expiry,
    user_from_dict,
    user_to_dict,
)
from app.permissions.policy import UserContext
from app.store import Store

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
KEY = "a-test-signing-key-of-thirty-two-bytes"


def user(token: str) -> UserContext:
    return UserContext("u1", "maya@example.org", "Maya Patel", "organization_admin", "o1", token,
                       frozenset({"create_tracks", "view_courses"}))  # fmt: skip


def test_a_users_context_survives_the_round_trip() -> None:
    u = user("t")
    assert user_from_dict(user_to_dict(u)) == u
    assert (
        user_from_dict(user_to_dict(UserContext("u", "e", "", "student", None, "t"))).platform_permissions
        is None
    )


def test_a_session_lasts_as_long_as_the_platform_token() -> None:
    exp = NOW + timedelta(minutes=42)
    token = jwt.encode({"sub": "u1", "exp": int(exp.timestamp())}, KEY, algorithm="HS256")
    assert token_expiry(token, NOW) == exp
    assert token_expiry("not-a-jwt", NOW) == NOW + DEFAULT_TOKEN_TTL


def test_open_restore_expire_and_close(store: Store) -> None:
    clock = [NOW]
    store.db.clock = lambda: clock[0]
    token = jwt.encode({"exp": int((NOW + timedelta(minutes=30)).timestamp())}, KEY, algorithm="HS256")
    secret, expires = open_session(store, user(token))
    assert expires == NOW + timedelta(minutes=30)
    assert stored_user(store, secret) == user(token)
    assert stored_user(store, secret + "x") is None  # a guessed or altered secret finds nothing
    assert stored_user(store, "") is None
    stored = store.web_sessions.get(secret)
    assert stored is not None and stored.id != secret  # only the hash is kept
    clock[0] = NOW + timedelta(minutes=31)
    assert stored_user(store, secret) is None  # expired with the token, and removed
    secret2, _ = open_session(store, user(token + "2"))
    close_session(store, secret2)
    assert stored_user(store, secret2) is None


def test_demo_accounts_cover_every_role_in_both_organizations() -> None:
    accounts = demo_accounts()
    assert {(a.role, a.organization) for a in accounts} == {
        ("site_admin", "(platform)"),
        *((role, org) for org in ("Northwind Academy", "Brightpath Institute")
          for role in ("organization_admin", "instructor", "student")),
    }  # fmt: skip
    assert all(a.password and a.full_name for a in accounts)
