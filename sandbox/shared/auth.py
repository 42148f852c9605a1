"""Who is calling, and may they call this endpoint: the two checks every protected route makes.

The bearer token identifies the user, but the role and organization always come from the
database: the user must still exist and be active, and (unless a site admin) hold an active
membership whose role and organization match the token's claims. A token minted before a role
change or removal is refused (401 `token_stale`), and a role or organization sent by the client
anywhere else is never read.

Each route declares its permissions with `RequirePermissions(...)`; a test walks every route of
the app and fails if a protected one lacks it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.shared.context import ContextDep, SessionDep
from sandbox.shared.enums import MembershipStatus, Role
from sandbox.shared.errors import ApiError, forbidden
from sandbox.shared.models import Membership, User
from sandbox.shared.permissions import Permission, permissions_for
from sandbox.shared.security import TokenError, decode_token

_bearer = HTTPBearer(auto_error=False, description="JWT from POST /api/v1/auth/login")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as the database says it is right now."""

    user_id: uuid.UUID
    email: str
    role: Role
    organization_id: uuid.UUID | None
    permissions: frozenset[Permission]

    @property
    def is_site_admin(self) -> bool:
        return self.role is Role.SITE_ADMIN

    def has(self, permission: Permission) -> bool:
        return permission in self.permissions

    def can_access_org(self, organization_id: uuid.UUID) -> bool:
        """Site admins reach every organization; everyone else only their own."""
        return self.is_site_admin or self.organization_id == organization_id


def _unauthorized(detail: str, rule: str) -> ApiError:
    return ApiError(401, detail, rule=rule, headers={"WWW-Authenticate": "Bearer"})


def resolve_principal(session: Session, user_id: uuid.UUID) -> Principal | None:
    """Load the user's current role and organization; None if they may not act at all."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    if user.is_site_admin:
        return Principal(user.id, user.email, Role.SITE_ADMIN, None, permissions_for(Role.SITE_ADMIN))
    membership = session.scalar(select(Membership).where(Membership.user_id == user.id))
    if membership is None or membership.status != MembershipStatus.ACTIVE:
        return None
    role = Role(membership.role_type)
    return Principal(user.id, user.email, role, membership.organization_id, permissions_for(role))


def current_principal(
    context: ContextDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the request: a valid, unexpired token of an active user with an unchanged role."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("Missing bearer token: log in with POST /api/v1/auth/login", "not_authenticated")
    return authenticate(session, credentials.credentials, secret=context.jwt_secret)


def authenticate(session: Session, token: str, *, secret: str) -> Principal:
    """The principal a bearer token stands for right now, or the 401 that refuses it.

    Shared by every route and by the idempotency middleware, so a replayed answer passes the
    same check as a new request (a removed member's unexpired token replays nothing).
    """
    try:
        claims = decode_token(token, secret=secret)
    except TokenError as exc:
        raise _unauthorized(exc.detail, exc.rule) from exc
    principal = resolve_principal(session, claims.user_id)
    if principal is None:
        raise _unauthorized("This account is inactive or no longer a member", "account_inactive")
    if principal.role != claims.role or principal.organization_id != claims.organization_id:
        raise _unauthorized("Your role or organization changed; log in again", "token_stale")
    return principal


class RequirePermissions:
    """Dependency: the caller must hold at least one of `permissions` (none given: any role).

    "Any of" because several endpoints serve two roles through different permissions, e.g.
    creating a course needs manage_courses (organization admins) or manage_assigned_content
    (instructors, for their own courses); the route then applies the narrower rule itself.
    """

    def __init__(self, *permissions: Permission) -> None:
        self.permissions = frozenset(permissions)

    def __call__(self, principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if self.permissions and not (self.permissions & principal.permissions):
            needed = " or ".join(sorted(self.permissions))
            raise forbidden(f"Your role ({principal.role}) lacks the permission {needed}")
        return principal

    def __repr__(self) -> str:
        return f"RequirePermissions({', '.join(sorted(self.permissions))})"


AnyMember = Annotated[Principal, Depends(RequirePermissions())]
