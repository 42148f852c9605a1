"""Login, tokens, email verification and the rule that roles come from the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx2
import jwt
from fastapi.testclient import TestClient
from sqlalchemy import select

from sandbox.seed import DEMO_LOGINS, UNVERIFIED_INSTRUCTORS, issue_verification_tokens
from sandbox.shared.enums import MembershipStatus, Role
from sandbox.shared.models import EmailVerification, Membership, User, utcnow
from sandbox.shared.permissions import ROLE_PERMISSIONS
from sandbox.shared.rate_limit import LoginRateLimiter
from sandbox.shared.security import hash_token
from tests.sandbox.helpers import NW, PEOPLE, TEST_SECRET, Api, assert_error, membership_id, org_id, user_id


def login(api: Api, email: str, password: str) -> tuple[int, dict[str, object]]:
    response = api.post("/auth/login", json={"email": email, "password": password})
    return response.status_code, response.json()


def test_login_issues_a_token_with_the_contract_claims(api: Api) -> None:
    email, password = DEMO_LOGINS[NW]["organization_admin"]
    status, body = login(api, email.upper(), password)
    assert status == 200, body
    claims = jwt.decode(str(body["access_token"]), TEST_SECRET, algorithms=["HS256"])
    assert claims["user_id"] == str(user_id("nw_admin"))
    assert claims["role"] == "organization_admin"
    assert claims["organization_id"] == str(org_id(NW))
    assert claims["exp"] - claims["iat"] == 60 * 60  # auth.token_ttl_minutes of platform.yaml
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    me = api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["email"] == email


def test_token_ttl_setting_overrides_the_platform_config(make_api: Callable[..., Api]) -> None:
    api = make_api(token_ttl_minutes=5)
    email, password = DEMO_LOGINS[NW]["student"]
    status, body = login(api, email, password)
    claims = jwt.decode(str(body["access_token"]), TEST_SECRET, algorithms=["HS256"])
    assert status == 200 and claims["exp"] - claims["iat"] == 300


def test_site_admin_token_has_no_organization(api: Api) -> None:
    email, password = DEMO_LOGINS[NW]["site_admin"]
    status, body = login(api, email, password)
    claims = jwt.decode(str(body["access_token"]), TEST_SECRET, algorithms=["HS256"])
    assert status == 200 and claims["role"] == "site_admin" and claims["organization_id"] is None


def test_wrong_password_and_unknown_email_look_the_same(api: Api) -> None:
    wrong = api.post("/auth/login", json={"email": PEOPLE["nw_admin"], "password": "nope"})
    unknown = api.post("/auth/login", json={"email": "ghost@nowhere.example", "password": "nope"})
    assert_error(wrong, 401, "invalid_credentials", None)
    assert_error(unknown, 401, "invalid_credentials", None)
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_failed_logins_slow_the_guessing_source_but_never_lock_out_the_user(
    make_api: Callable[..., Api],
) -> None:
    api = make_api({"auth": {"login_max_failed_attempts": 2}})
    email, password = DEMO_LOGINS[NW]["instructor"]
    attacker = TestClient(api.app, client=("203.0.113.9", 40000))
    user = TestClient(api.app, client=("198.51.100.7", 50000))

    def attempt(client: TestClient, address: str, secret: str) -> httpx2.Response:
        return client.post("/api/v1/auth/login", json={"email": address, "password": secret})

    assert attempt(attacker, email, "wrong").status_code == 401
    assert attempt(attacker, email.upper(), "wrong").status_code == 401  # one account, any case
    blocked = attempt(attacker, email, password)
    body = assert_error(blocked, 429, "login_rate_limited", "email")
    assert int(blocked.headers["retry-after"]) >= 1, body
    assert attempt(user, email, password).status_code == 200  # the real user is not locked out
    other_email, other_password = DEMO_LOGINS[NW]["student"]
    assert attempt(attacker, other_email, other_password).status_code == 200  # only that account


def test_the_wait_doubles_with_each_failure_and_ends_with_the_window() -> None:
    now = [1000.0]
    limiter = LoginRateLimiter(3, 60, clock=lambda: now[0])
    waits = []
    for _ in range(10):
        limiter.record_failure("10.0.0.1", "a@x.example")
        waits.append(limiter.retry_after("10.0.0.1", "a@x.example"))
    assert waits == [None, None, 1, 2, 4, 8, 16, 32, 60, 60]
    assert limiter.retry_after("10.0.0.2", "a@x.example") is None
    assert limiter.retry_after("10.0.0.1", "A@X.EXAMPLE") == 60
    now[0] += 61
    assert limiter.retry_after("10.0.0.1", "a@x.example") is None
    limiter.record_failure("10.0.0.1", "a@x.example")  # the old failures left the window
    assert limiter.retry_after("10.0.0.1", "a@x.example") is None
    limiter.reset("10.0.0.1", "a@x.example")


def test_a_source_sweeping_many_accounts_is_throttled_as_a_whole() -> None:
    now = [0.0]
    limiter = LoginRateLimiter(2, 60, clock=lambda: now[0], sweep_factor=3)
    for n in range(6):  # one failure each on six accounts: under every per-account allowance
        limiter.record_failure("10.0.0.9", f"user{n}@x.example")
    assert limiter.retry_after("10.0.0.9", "someone-else@x.example") == 1
    assert limiter.retry_after("10.0.0.8", "someone-else@x.example") is None


def test_unverified_instructor_cannot_log_in_until_verified(api: Api) -> None:
    email, token = issue_verification_tokens(api.context.session_factory)[NW]
    assert email == UNVERIFIED_INSTRUCTORS[NW]
    assert login(api, email, "whatever-password")[0] == 401
    short = api.post("/auth/verify-email", json={"token": token, "password": "short"})
    assert_error(short, 422, "password_too_short", "password")
    missing = api.post("/auth/verify-email", json={"token": token})
    assert_error(missing, 422, "password_required", "password")
    verified = api.post("/auth/verify-email", json={"token": token, "password": "Teach-Data-2025"})
    assert verified.status_code == 200, verified.text
    assert verified.json()["email_verified"] is True and verified.json()["role"] == "instructor"
    with api.session() as session:
        membership = session.get(Membership, membership_id("nw_unverified"))
        assert membership is not None and membership.status == MembershipStatus.ACTIVE
        assert membership.accepted_at is not None
    assert login(api, email, "Teach-Data-2025")[0] == 200
    reused = api.post("/auth/verify-email", json={"token": token, "password": "Teach-Data-2025"})
    assert_error(reused, 422, "verification_token_invalid", "token")


def test_expired_and_unknown_verification_tokens_are_refused(api: Api) -> None:
    _email, token = issue_verification_tokens(api.context.session_factory)[NW]
    unknown = api.post("/auth/verify-email", json={"token": "not-a-token", "password": "long-enough-1"})
    assert_error(unknown, 422, "verification_token_invalid", "token")
    with api.session() as session:
        row = session.scalar(
            select(EmailVerification).where(EmailVerification.token_hash == hash_token(token))
        )
        assert row is not None
        row.expires_at = utcnow() - timedelta(minutes=1)
        session.commit()
    expired = api.post("/auth/verify-email", json={"token": token, "password": "long-enough-1"})
    assert_error(expired, 422, "verification_token_expired", "token")
    assert api.scalar(select(User.email_verified).where(User.id == user_id("nw_unverified"))) is False


def test_expired_tampered_and_missing_tokens_are_401(api: Api) -> None:
    expired = api.token("nw_admin", now=utcnow() - timedelta(hours=2))
    assert_error(api.get("/users/me", headers={"Authorization": f"Bearer {expired}"}), 401, "token_expired")
    forged = jwt.encode(
        {"user_id": str(user_id("nw_admin")), "role": "site_admin", "exp": 9999999999}, "x" * 40
    )
    assert_error(api.get("/users/me", headers={"Authorization": f"Bearer {forged}"}), 401, "invalid_token")
    assert_error(api.get("/users/me", headers={"Authorization": "Basic abc"}), 401, "not_authenticated")
    assert_error(api.get("/users/me"), 401, "not_authenticated")


def test_a_role_claimed_in_the_token_is_never_trusted(api: Api) -> None:
    # a correctly signed token that claims more than the database grants is refused
    inflated = api.token("nw_student", role="site_admin", organization_id=None)
    response = api.get("/organizations", headers={"Authorization": f"Bearer {inflated}"})
    assert_error(response, 401, "token_stale")


def test_role_changes_take_effect_immediately(api: Api) -> None:
    token = api.token("nw_instructor")
    with api.session() as session:
        membership = session.get(Membership, membership_id("nw_instructor"))
        assert membership is not None
        membership.role_type = "student"
        session.commit()
    assert_error(api.get("/users/me", headers={"Authorization": f"Bearer {token}"}), 401, "token_stale")
    with api.session() as session:
        user = session.get(User, user_id("nw_instructor"))
        assert user is not None
        user.is_active = False
        session.commit()
    assert_error(api.get("/users/me", headers={"Authorization": f"Bearer {token}"}), 401, "account_inactive")


def test_users_me_reports_the_database_role_and_permissions(api: Api) -> None:
    for who, role in (
        ("nw_admin", "organization_admin"),
        ("nw_instructor", "instructor"),
        ("nw_student", "student"),
    ):
        body = api.get("/users/me", who).json()
        assert body["role"] == role
        assert set(body["permissions"]) == {str(p) for p in ROLE_PERMISSIONS[Role(role)]}


def test_every_demo_login_works(api: Api) -> None:
    for org, logins in DEMO_LOGINS.items():
        for role, (email, password) in logins.items():
            status, body = login(api, email, password)
            assert status == 200, (org, role, body)
            assert body["user"]["role"] == role  # type: ignore[index]


def test_a_right_password_on_an_unverified_email_is_403(api: Api) -> None:
    with api.session() as session:  # e.g. an account whose email was reset to unverified by support
        user = session.get(User, user_id("nw_instructor"))
        assert user is not None
        user.email_verified = False
        session.commit()
    email, password = DEMO_LOGINS[NW]["instructor"]
    assert_error(
        api.post("/auth/login", json={"email": email, "password": password}), 403, "email_not_verified"
    )
