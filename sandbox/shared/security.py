"""Password hashing and access tokens, with the standard library and PyJWT only.

Passwords: PBKDF2-HMAC-SHA256 with a random 16-byte salt, stored as
`pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>`. The iteration count travels with the hash,
so raising `auth.password_hash_iterations` in platform.yaml never invalidates stored passwords.

Tokens: HS256 JWTs with the claims the real platform's services read: `user_id`, `role`,
`organization_id` (null for site admins) and `exp`, plus `iat`. The token is a convenience, not
the authority: every request re-reads the user and membership from the database
(`shared/auth.py`), so a removed member or a changed role takes effect at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from sandbox.shared.models import utcnow

JWT_ALGORITHM = "HS256"
_SCHEME = "pbkdf2_sha256"


def hash_password(password: str, iterations: int) -> str:
    """Hash `password` with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{_SCHEME}${iterations}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time check of `password` against a stored hash; False for malformed hashes."""
    if not stored:
        return False
    try:
        scheme, iterations, salt_hex, digest_hex = stored.split("$")
        if scheme != _SCHEME:
            return False
        digest = hashlib.pbkdf2_hmac(
            "sha256", password.encode("utf-8"), bytes.fromhex(salt_hex), int(iterations)
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def hash_token(token: str) -> str:
    """SHA-256 of a one-time token (email verification): the database never holds the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_one_time_token() -> str:
    """A URL-safe random token of 256 bits."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class TokenClaims:
    """The verified content of an access token."""

    user_id: uuid.UUID
    role: str
    organization_id: uuid.UUID | None
    expires_at: datetime


class TokenError(Exception):
    """The token is missing, malformed, badly signed or expired; `rule` says which."""

    def __init__(self, detail: str, rule: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.rule = rule


def issue_token(
    *,
    secret: str,
    user_id: uuid.UUID,
    role: str,
    organization_id: uuid.UUID | None,
    ttl_minutes: int,
    now: datetime | None = None,
) -> tuple[str, datetime]:
    """Sign a token for the user; returns it with its expiry time."""
    issued = now or utcnow()
    expires = issued + timedelta(minutes=ttl_minutes)
    payload: dict[str, Any] = {
        "user_id": str(user_id),
        "role": role,
        "organization_id": str(organization_id) if organization_id else None,
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM), expires


def decode_token(token: str, *, secret: str) -> TokenClaims:
    """Verify signature, expiry and claim types; raise TokenError otherwise."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "user_id", "role"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("Access token has expired; log in again", "token_expired") from exc
    except jwt.PyJWTError as exc:
        raise TokenError("Access token is invalid", "invalid_token") from exc
    try:
        org = payload.get("organization_id")
        return TokenClaims(
            user_id=uuid.UUID(str(payload["user_id"])),
            role=str(payload["role"]),
            organization_id=uuid.UUID(str(org)) if org else None,
            expires_at=datetime.fromtimestamp(int(payload["exp"]), tz=utcnow().tzinfo),
        )
    except (ValueError, TypeError) as exc:
        raise TokenError("Access token claims are malformed", "invalid_token") from exc
