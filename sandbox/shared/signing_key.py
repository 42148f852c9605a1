"""Which key signs access tokens, and the refusal to serve others with a guessable one.

Anyone who knows the signing key can mint a token for any user, a site admin included. The
sandbox used to ship a fixed development key; now an unset `SANDBOX_JWT_SECRET` means a random
key generated on the database's first start and stored in it (table instance_secrets), and a
sandbox listening on anything but a loopback address refuses to start unless the key was set
explicitly to something that is not the old published default.
"""

from __future__ import annotations

import ipaddress
import secrets

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from sandbox.settings import PUBLISHED_DEVELOPMENT_SECRET, SandboxSettings
from sandbox.shared.models import InstanceSecret

KEY_NAME = "jwt_signing_key"
MIN_EXPLICIT_KEY_LENGTH = 32


class InsecureSigningKey(RuntimeError):
    """The sandbox would serve others with a key they could know: set SANDBOX_JWT_SECRET."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_signing_key(settings: SandboxSettings) -> None:
    """Refuse a non-loopback `settings.host` unless SANDBOX_JWT_SECRET is a real secret."""
    if is_loopback(settings.host):
        return
    explicit = settings.jwt_secret.get_secret_value() if settings.jwt_secret else ""
    if not explicit or explicit == PUBLISHED_DEVELOPMENT_SECRET:
        reason = "is not set" if not explicit else "is the published development key"
        raise InsecureSigningKey(
            f"SANDBOX_JWT_SECRET {reason}, and the sandbox would listen on {settings.host}, which "
            "others can reach: anyone knowing the key can sign in as any user. Set "
            f"SANDBOX_JWT_SECRET to a random secret of at least {MIN_EXPLICIT_KEY_LENGTH} characters "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
            "or listen on 127.0.0.1."
        )
    if len(explicit) < MIN_EXPLICIT_KEY_LENGTH:
        raise InsecureSigningKey(
            f"SANDBOX_JWT_SECRET is {len(explicit)} characters; serving on {settings.host} needs "
            f"at least {MIN_EXPLICIT_KEY_LENGTH}."
        )


def signing_key(settings: SandboxSettings, session_factory: sessionmaker[Session]) -> str:
    """SANDBOX_JWT_SECRET when set, else this database's own key (generated on first start)."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    for _attempt in range(2):
        with session_factory() as session:
            stored = session.get(InstanceSecret, KEY_NAME)
            if stored is not None:
                return stored.value
            session.add(InstanceSecret(name=KEY_NAME, value=secrets.token_urlsafe(48)))
            try:
                session.commit()
            except IntegrityError:  # another process generated it first: read theirs
                session.rollback()
    with session_factory() as session:
        stored = session.get(InstanceSecret, KEY_NAME)
        assert stored is not None
        return stored.value
