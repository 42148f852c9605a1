"""The closed vocabularies of the platform: roles, statuses and levels.

They are string enums so that the database stores, and the API sends, the plain lower-case
values the real platform uses ("organization_admin", "beginner", "draft", ...). Request schemas
use these types, so a value outside the enum is rejected with 422 naming the field.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's role; the permissions of each role are in `shared/permissions.py`."""

    SITE_ADMIN = "site_admin"
    ORGANIZATION_ADMIN = "organization_admin"
    INSTRUCTOR = "instructor"
    STUDENT = "student"


class MemberRole(StrEnum):
    """Roles a membership of an organization can have (site admins belong to no organization)."""

    ORGANIZATION_ADMIN = "organization_admin"
    INSTRUCTOR = "instructor"
    STUDENT = "student"


class MembershipStatus(StrEnum):
    """pending: invited, email not verified yet; active: may log in and act."""

    PENDING = "pending"
    ACTIVE = "active"


class ProjectStatus(StrEnum):
    """A project is created as draft and goes live with POST /projects/{id}/publish."""

    DRAFT = "draft"
    ACTIVE = "active"
    COMPLETED = "completed"
    ARCHIVED = "archived"


class TrackStatus(StrEnum):
    """A track is created as draft; publishing makes it active, the only status open to enrollment."""

    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class DifficultyLevel(StrEnum):
    """Levels of tracks and courses; nothing else is accepted."""

    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class DurationUnit(StrEnum):
    """Unit of a course's estimated_duration."""

    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"


class EnrollmentStatus(StrEnum):
    """active enrollments block deleting their project, track or course (unless force=true)."""

    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
