"""HTTP endpoints of user management: /auth/login, /auth/verify-email, /users/me.

Login and verify-email are the only endpoints besides /health that need no token: they are how
one gets a token. /users/me shows the caller's role and permissions as the database has them now.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from sandbox.services.user_management import authentication
from sandbox.services.user_management.schemas import (
    LoginRequest,
    TokenResponse,
    UserResponse,
    VerifyEmailRequest,
)
from sandbox.shared.auth import AnyMember
from sandbox.shared.context import ContextDep, SessionDep
from sandbox.shared.errors import not_found
from sandbox.shared.models import User

router = APIRouter(tags=["user management"])


@router.post("/auth/login", response_model=TokenResponse)
def login(body: LoginRequest, request: Request, session: SessionDep, context: ContextDep) -> TokenResponse:
    """Exchange email and password for a bearer token (JWT, HS256)."""
    source = request.client.host if request.client else "unknown"
    return authentication.login(session, context, body, source)


@router.post("/auth/verify-email", response_model=UserResponse)
def verify_email(body: VerifyEmailRequest, session: SessionDep, context: ContextDep) -> UserResponse:
    """Verify an invited user's email with the token from the invitation, and set their password."""
    return authentication.verify_email(session, context, body)


@router.get("/users/me", response_model=UserResponse)
def me(principal: AnyMember, session: SessionDep) -> UserResponse:
    """The caller: profile, role, organization and permissions."""
    user = session.get(User, principal.user_id)
    if user is None:
        raise not_found("User")
    return authentication.describe_user(session, user)
