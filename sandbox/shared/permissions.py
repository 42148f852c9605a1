"""Roles and their permissions: the single map every endpoint is checked against.

Permission names are the real platform's (`enhanced_role.py` in its organization-management
service), so what the assistant learns here holds there. The sandbox differs from the real
platform in one way on purpose: the real one leaves some endpoints open and trusts a role sent
by the client; here the role always comes from the database (see `shared/auth.py`) and every
endpoint declares the permission it needs (see `shared/auth.py: RequirePermissions`).
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from sandbox.shared.enums import Role


class Permission(StrEnum):
    """Granular permissions, named as on the real platform."""

    # site administration
    DELETE_ANY_ORGANIZATION = "delete_any_organization"
    VIEW_ALL_ORGANIZATIONS = "view_all_organizations"
    MANAGE_SITE_SETTINGS = "manage_site_settings"
    # organization administration
    MANAGE_ORGANIZATION = "manage_organization"
    ADD_ORGANIZATION_ADMINS = "add_organization_admins"
    REMOVE_ORGANIZATION_ADMINS = "remove_organization_admins"
    ADD_INSTRUCTORS_TO_ORG = "add_instructors_to_org"
    REMOVE_INSTRUCTORS_FROM_ORG = "remove_instructors_from_org"
    CREATE_PROJECTS = "create_projects"
    DELETE_PROJECTS = "delete_projects"
    # project and track management
    CREATE_TRACKS = "create_tracks"
    DELETE_TRACKS = "delete_tracks"
    ASSIGN_STUDENTS_TO_TRACKS = "assign_students_to_tracks"
    ASSIGN_INSTRUCTORS_TO_TRACKS = "assign_instructors_to_tracks"
    # courses
    VIEW_COURSES = "view_courses"
    MANAGE_COURSES = "manage_courses"
    DELETE_COURSES = "delete_courses"
    # instructors
    MANAGE_INSTRUCTORS = "manage_instructors"
    VIEW_INSTRUCTORS = "view_instructors"
    # students
    ADD_STUDENTS_TO_PROJECT = "add_students_to_project"
    REMOVE_STUDENTS_FROM_PROJECT = "remove_students_from_project"
    VIEW_STUDENT_PROGRESS = "view_student_progress"
    # instructor powers
    TEACH_TRACKS = "teach_tracks"
    GRADE_STUDENTS = "grade_students"
    VIEW_ASSIGNED_STUDENTS = "view_assigned_students"
    MANAGE_ASSIGNED_CONTENT = "manage_assigned_content"
    # student powers
    ACCESS_ASSIGNED_TRACKS = "access_assigned_tracks"
    VIEW_OWN_PROGRESS = "view_own_progress"


P = Permission

ORGANIZATION_ADMIN_PERMISSIONS = frozenset(
    {
        P.MANAGE_ORGANIZATION,
        P.ADD_ORGANIZATION_ADMINS,
        P.REMOVE_ORGANIZATION_ADMINS,
        P.ADD_INSTRUCTORS_TO_ORG,
        P.REMOVE_INSTRUCTORS_FROM_ORG,
        P.CREATE_PROJECTS,
        P.DELETE_PROJECTS,
        P.CREATE_TRACKS,
        P.DELETE_TRACKS,
        P.ASSIGN_STUDENTS_TO_TRACKS,
        P.ASSIGN_INSTRUCTORS_TO_TRACKS,
        P.VIEW_COURSES,
        P.MANAGE_COURSES,
        P.DELETE_COURSES,
        P.MANAGE_INSTRUCTORS,
        P.VIEW_INSTRUCTORS,
        P.ADD_STUDENTS_TO_PROJECT,
        P.REMOVE_STUDENTS_FROM_PROJECT,
        P.VIEW_STUDENT_PROGRESS,
    }
)

INSTRUCTOR_PERMISSIONS = frozenset(
    {
        P.TEACH_TRACKS,
        P.GRADE_STUDENTS,
        P.VIEW_ASSIGNED_STUDENTS,
        P.MANAGE_ASSIGNED_CONTENT,
        P.VIEW_STUDENT_PROGRESS,
        P.VIEW_COURSES,
        P.VIEW_INSTRUCTORS,
    }
)

STUDENT_PERMISSIONS = frozenset({P.ACCESS_ASSIGNED_TRACKS, P.VIEW_OWN_PROGRESS, P.VIEW_COURSES})

# A site admin holds every permission, including the three only site admins have.
SITE_ADMIN_PERMISSIONS = frozenset(Permission)

ROLE_PERMISSIONS: MappingProxyType[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.SITE_ADMIN: SITE_ADMIN_PERMISSIONS,
        Role.ORGANIZATION_ADMIN: ORGANIZATION_ADMIN_PERMISSIONS,
        Role.INSTRUCTOR: INSTRUCTOR_PERMISSIONS,
        Role.STUDENT: STUDENT_PERMISSIONS,
    }
)


def permissions_for(role: Role) -> frozenset[Permission]:
    """The permissions a role grants (the map above is the only source)."""
    return ROLE_PERMISSIONS[role]
