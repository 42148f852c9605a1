"""The assistant's own RBAC and organization-scoping policy, checked before anything executes.

The platform checks permissions too; the assistant checks them first and independently of what
the model said, so that (a) a user is never offered a tool they cannot use, (b) a proposal the
user could never approve is refused at once with a clear reason, and (c) a model tricked by text
it read cannot reach past the user's own rights. Permission names and the role map mirror the
platform's `enhanced_role.py`; a user's own permission list from `GET /users/me`, when the
platform sends one, narrows this map further (never widens it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType

ORGANIZATION_ADMIN = frozenset(
    {
        "manage_organization", "add_organization_admins", "remove_organization_admins",
        "add_instructors_to_org", "remove_instructors_from_org", "create_projects", "delete_projects",
        "create_tracks", "delete_tracks", "assign_students_to_tracks", "assign_instructors_to_tracks",
        "view_courses", "manage_courses", "delete_courses", "manage_instructors", "view_instructors",
        "add_students_to_project", "remove_students_from_project", "view_student_progress",
    }
)  # fmt: skip
INSTRUCTOR = frozenset(
    {
        "teach_tracks", "grade_students", "view_assigned_students", "manage_assigned_content",
        "view_student_progress", "view_courses", "view_instructors",
    }
)  # fmt: skip
STUDENT = frozenset({"access_assigned_tracks", "view_own_progress", "view_courses"})
SITE_ADMIN = (
    ORGANIZATION_ADMIN
    | INSTRUCTOR
    | STUDENT
    | {
        "view_all_organizations",
        "delete_any_organization",
        "manage_site_settings",
    }
)

ROLE_PERMISSIONS = MappingProxyType(
    {
        "site_admin": frozenset(SITE_ADMIN),
        "organization_admin": ORGANIZATION_ADMIN,
        "instructor": INSTRUCTOR,
        "student": STUDENT,
    }
)


@dataclass(frozen=True)
class UserContext:
    """The person the assistant acts for in one conversation (and the token it acts with)."""

    user_id: str
    email: str
    full_name: str
    role: str
    organization_id: str | None
    token: str
    platform_permissions: frozenset[str] | None = None

    @property
    def permissions(self) -> frozenset[str]:
        granted = ROLE_PERMISSIONS.get(self.role, frozenset())
        if self.platform_permissions is not None:
            return granted & self.platform_permissions
        return granted

    def can(self, any_of: Iterable[str]) -> bool:
        """True when the user holds at least one of the permissions (empty: anyone)."""
        needed = tuple(any_of)
        return not needed or any(p in self.permissions for p in needed)

    @property
    def is_site_admin(self) -> bool:
        return self.role == "site_admin"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""

    @staticmethod
    def allow() -> Decision:
        return Decision(True)

    @staticmethod
    def deny(reason: str) -> Decision:
        return Decision(False, reason)


def check_permission(user: UserContext, tool: str, any_of: Iterable[str]) -> Decision:
    needed = tuple(any_of)
    if user.can(needed):
        return Decision.allow()
    return Decision.deny(
        f"Your role ({user.role.replace('_', ' ')}) cannot use {tool}: it needs "
        f"{' or '.join(needed)}. Ask an organization admin."
    )


def check_organization(user: UserContext, resource: str, organization_id: str | None) -> Decision:
    """A resource must belong to the user's own organization (site admins: any organization)."""
    if user.is_site_admin:
        return Decision.allow()
    if (
        organization_id is None
        or user.organization_id is None
        or str(organization_id) != str(user.organization_id)
    ):
        return Decision.deny(f"{resource} is not in your organization, so the assistant will not act on it.")
    return Decision.allow()
