"""Login and email verification: the rules that decide who gets a token.

Login (POST /auth/login):
1. a source address that failed `auth.login_max_failed_attempts` times for this account inside
   `auth.login_window_seconds` is refused with 429 `login_rate_limited` (Retry-After header) for a
   wait that doubles with each further failure, before the password is read; other sources (the
   real user) are not affected (see `shared/rate_limit.py`);
2. an unknown email and a wrong password give the same 401 `invalid_credentials`, so the endpoint
   cannot be used to discover accounts (an unknown email still pays for one password hash);
3. a right password of an unverified email gives 403 `email_not_verified`; a removed member or a
   membership still pending gives 403 `account_inactive`;
4. otherwise a JWT valid for `auth.token_ttl_minutes` carrying user_id, role, organization_id, exp.

Email verification (POST /auth/verify-email): an invitation creates a pending account and a one-time
token valid for `auth.verification_token_ttl_hours`. Verifying it marks the email verified, sets the
password (required when the account has none, at least `auth.min_password_length` characters) and
activates the membership: only then can the user log in, and only then can an instructor be
assigned to a track.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.services.user_management.schemas import (
    LoginRequest,
    TokenResponse,
    UserResponse,
    VerifyEmailRequest,
)
from sandbox.shared.activity import record_activity
from sandbox.shared.auth import resolve_principal
from sandbox.shared.context import SandboxContext
from sandbox.shared.enums import MembershipStatus
from sandbox.shared.errors import ApiError, forbidden, unprocessable
from sandbox.shared.models import EmailVerification, Membership, User, utcnow
from sandbox.shared.schemas import normalize_email
from sandbox.shared.security import hash_password, hash_token, issue_token, verify_password


@lru_cache(maxsize=4)
def _dummy_hash(iterations: int) -> str:
    """A hash to check unknown emails against, so they take as long as known ones."""
    return hash_password("not-a-real-password", iterations)


def describe_user(session: Session, user: User) -> UserResponse:
    """The caller-facing view of a user, with the role and permissions the database gives them."""
    membership = session.scalar(select(Membership).where(Membership.user_id == user.id))
    principal = resolve_principal(session, user.id)
    if principal is not None:
        role, org_id = principal.role.value, principal.organization_id
        permissions = sorted(principal.permissions)
    else:
        role = membership.role_type if membership else "none"
        org_id = membership.organization_id if membership else None
        permissions = []
    return UserResponse(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        role=role,
        organization_id=org_id,
        email_verified=user.email_verified,
        permissions=permissions,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def login(session: Session, context: SandboxContext, request: LoginRequest, source: str) -> TokenResponse:
    """Check the credentials and the account's state; issue a token. `source`: the client address."""
    email = normalize_email(request.email)
    limiter = context.login_limiter
    retry_after = limiter.retry_after(source, email)
    if retry_after is not None:
        raise ApiError(
            429,
            f"Too many failed logins from your address; try again in {retry_after} seconds",
            rule="login_rate_limited",
            field="email",
            headers={"Retry-After": str(retry_after)},
        )
    user = session.scalar(select(User).where(User.email == email))
    stored = user.password_hash if user else _dummy_hash(context.config.auth.password_hash_iterations)
    if user is None or not verify_password(request.password, stored):
        limiter.record_failure(source, email)
        raise ApiError(401, "Email or password is wrong", rule="invalid_credentials")
    if not user.email_verified:
        raise forbidden("Verify your email before logging in", rule="email_not_verified")
    principal = resolve_principal(session, user.id)
    if principal is None:  # deactivated (removed from the organization) or membership not active
        raise forbidden("This account is inactive or has no active membership", rule="account_inactive")
    limiter.reset(source, email)
    user.last_login_at = utcnow()
    session.commit()
    token, expires_at = issue_token(
        secret=context.jwt_secret,
        user_id=user.id,
        role=principal.role.value,
        organization_id=principal.organization_id,
        ttl_minutes=context.token_ttl_minutes,
    )
    return TokenResponse(
        access_token=token,
        expires_at=expires_at,
        expires_in=context.token_ttl_minutes * 60,
        user=describe_user(session, user),
    )


def verify_email(session: Session, context: SandboxContext, request: VerifyEmailRequest) -> UserResponse:
    """Consume a verification token: verify the email, set the password, activate the membership."""
    verification = session.scalar(
        select(EmailVerification).where(EmailVerification.token_hash == hash_token(request.token))
    )
    if verification is None or verification.used_at is not None:
        raise unprocessable(
            "This verification token is unknown or was already used",
            rule="verification_token_invalid",
            field="token",
        )
    now = utcnow()
    if verification.expires_at < now:
        raise unprocessable(
            "This verification token has expired; ask an administrator to invite you again",
            rule="verification_token_expired",
            field="token",
        )
    user = session.get(User, verification.user_id)
    if user is None:
        raise unprocessable(
            "This verification token is unknown", rule="verification_token_invalid", field="token"
        )
    if request.password is not None:
        minimum = context.config.auth.min_password_length
        if len(request.password) < minimum:
            raise unprocessable(
                f"Password must have at least {minimum} characters",
                rule="password_too_short",
                field="password",
            )
        user.password_hash = hash_password(request.password, context.config.auth.password_hash_iterations)
    elif user.password_hash is None:
        raise unprocessable(
            "Choose a password to finish verifying", rule="password_required", field="password"
        )
    if request.full_name:
        user.full_name = request.full_name.strip()
    user.email_verified = True
    verification.used_at = now
    membership = session.scalar(select(Membership).where(Membership.user_id == user.id))
    if membership is not None and membership.status == MembershipStatus.PENDING:
        membership.status = MembershipStatus.ACTIVE
        membership.accepted_at = now
    record_activity(
        session,
        organization_id=membership.organization_id if membership else None,
        actor_id=user.id,
        action="member.email_verified",
        entity_type="user",
        entity_id=user.id,
        summary=f"{user.email} verified their email",
    )
    session.commit()
    return describe_user(session, user)
