"""Users of each role, as the assistant sees them after sign-in."""

from __future__ import annotations

from app.permissions.policy import UserContext

ORG_A = "org-a"
ORG_B = "org-b"


def user(role: str, organization_id: str | None = ORG_A, **kwargs: object) -> UserContext:
    return UserContext(
        user_id=f"{role}-1",
        email=f"{role}@example.com",
        full_name=role.replace("_", " ").title(),
        role=role,
        organization_id=organization_id,
        token="token",
        **kwargs,  # type: ignore[arg-type]
    )
