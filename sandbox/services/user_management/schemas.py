"""Request and response bodies of the user-management endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from sandbox.shared.schemas import Email, RequestModel, ResponseModel


class LoginRequest(RequestModel):
    """Credentials for POST /auth/login."""

    email: Email
    password: str = Field(min_length=1, max_length=200)


class UserResponse(ResponseModel):
    """A user as the API shows it: role and organization come from the database."""

    id: uuid.UUID
    email: str
    full_name: str
    role: str
    organization_id: uuid.UUID | None
    email_verified: bool
    permissions: list[str]
    created_at: datetime
    last_login_at: datetime | None


class TokenResponse(ResponseModel):
    """An access token, when it expires, and who it is for."""

    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    expires_in: int = Field(description="Seconds until the token expires")
    user: UserResponse


class VerifyEmailRequest(RequestModel):
    """Body of POST /auth/verify-email: the token from the invitation, and a password to set."""

    token: str = Field(min_length=1, max_length=200)
    password: str | None = Field(None, max_length=200)
    full_name: str | None = Field(None, min_length=1, max_length=200)
