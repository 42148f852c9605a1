"""SQLAlchemy models of the platform: one set of tables for SQLite and PostgreSQL.

Design choices, and why:
- ids are UUIDs (`Uuid` type: native on PostgreSQL, 32-char hex on SQLite), as on the real platform;
- every org-owned row carries `organization_id`, so scoping a query to the caller's organization
  is one WHERE clause, never a join that someone can forget;
- uniqueness rules are database constraints (`uq_*`), so they hold under concurrent requests;
  names are compared through a normalized `name_key` (case-folded, whitespace collapsed), so
  "Data Science" and "data  science" count as the same name;
- deletions cascade in the database (ON DELETE CASCADE): deleting a project removes its tracks,
  their courses, instructor assignments and enrollments in one statement.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (the only kind of datetime the sandbox stores)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and read back timezone-aware (SQLite would drop the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _fk(target: str, on_delete: str = "CASCADE") -> ForeignKey:
    return ForeignKey(target, ondelete=on_delete)


class Base(DeclarativeBase):
    """Declarative base of every sandbox table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        bytes: LargeBinary(),
    }


class Organization(Base):
    """A tenant: everything else (members, projects, tracks, courses) belongs to exactly one."""

    __tablename__ = "organizations"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    contact_email: Mapped[str | None] = mapped_column(String(320))
    website: Mapped[str | None] = mapped_column(String(500))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class User(Base):
    """An account. Site admins have `is_site_admin`; everyone else has one Membership."""

    __tablename__ = "users"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(300))
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_site_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()


class Membership(Base):
    """A user's role in an organization. One per user: a user belongs to one organization."""

    __tablename__ = "memberships"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(_fk("users.id"), unique=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(_fk("organizations.id"), index=True)
    role_type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(_fk("users.id", "SET NULL"))
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column()


class MembershipProject(Base):
    """Projects an instructor or student membership is limited to (none: the whole organization)."""

    __tablename__ = "membership_projects"
    membership_id: Mapped[uuid.UUID] = mapped_column(_fk("memberships.id"), primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(_fk("projects.id"), primary_key=True)


class EmailVerification(Base):
    """A one-time email-verification token; only its SHA-256 is stored."""

    __tablename__ = "email_verifications"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(_fk("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class Project(Base):
    """A training program of an organization (e.g. "Data Science Foundations")."""

    __tablename__ = "projects"
    __table_args__ = (
        UniqueConstraint("organization_id", "name_key", name="uq_projects_org_name"),
        UniqueConstraint("organization_id", "slug", name="uq_projects_org_slug"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(_fk("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    duration_weeks: Mapped[int | None] = mapped_column(Integer)
    max_participants: Mapped[int | None] = mapped_column(Integer)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    target_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(_fk("users.id", "SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column()


class Track(Base):
    """A learning path inside a project, at one difficulty level, holding courses."""

    __tablename__ = "tracks"
    __table_args__ = (UniqueConstraint("project_id", "name_key", name="uq_tracks_project_name"),)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(_fk("organizations.id"), index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(_fk("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    difficulty_level: Mapped[str] = mapped_column(String(20))
    duration_weeks: Mapped[int | None] = mapped_column(Integer)
    max_students: Mapped[int | None] = mapped_column(Integer)
    target_audience: Mapped[list[str]] = mapped_column(JSON, default=list)
    prerequisites: Mapped[list[str]] = mapped_column(JSON, default=list)
    learning_objectives: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(_fk("users.id", "SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column()


class TrackInstructor(Base):
    """An instructor assigned to teach a track."""

    __tablename__ = "track_instructors"
    __table_args__ = (UniqueConstraint("track_id", "user_id", name="uq_track_instructors"),)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    track_id: Mapped[uuid.UUID] = mapped_column(_fk("tracks.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(_fk("users.id"), index=True)
    assigned_by_id: Mapped[uuid.UUID | None] = mapped_column(_fk("users.id", "SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrackEnrollment(Base):
    """A student enrolled in a whole track (POST /tracks/{id}/enroll)."""

    __tablename__ = "track_enrollments"
    __table_args__ = (UniqueConstraint("track_id", "student_id", name="uq_track_enrollments"),)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    track_id: Mapped[uuid.UUID] = mapped_column(_fk("tracks.id"), index=True)
    student_id: Mapped[uuid.UUID] = mapped_column(_fk("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    enrolled_by_id: Mapped[uuid.UUID | None] = mapped_column(_fk("users.id", "SET NULL"))
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)


class Course(Base):
    """A course of an organization, optionally inside a track; `instructor_id` owns it."""

    __tablename__ = "courses"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(_fk("organizations.id"), index=True)
    track_id: Mapped[uuid.UUID | None] = mapped_column(_fk("tracks.id"), index=True)
    instructor_id: Mapped[uuid.UUID | None] = mapped_column(_fk("users.id", "SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    difficulty_level: Mapped[str] = mapped_column(String(20), default="beginner")
    category: Mapped[str | None] = mapped_column(String(100))
    estimated_duration: Mapped[int | None] = mapped_column(Integer)
    duration_unit: Mapped[str] = mapped_column(String(10), default="weeks")
    price: Mapped[float] = mapped_column(Float, default=0.0)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column()
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(_fk("users.id", "SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Enrollment(Base):
    """A student enrolled in one course; `progress_percent` feeds the analytics summaries."""

    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("course_id", "student_id", name="uq_enrollments"),)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    course_id: Mapped[uuid.UUID] = mapped_column(_fk("courses.id"), index=True)
    student_id: Mapped[uuid.UUID] = mapped_column(_fk("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    progress_percent: Mapped[int] = mapped_column(Integer, default=0)
    enrolled_by_id: Mapped[uuid.UUID | None] = mapped_column(_fk("users.id", "SET NULL"))
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column()


class ActivityEvent(Base):
    """One write that happened in an organization (who did what to which entity, when)."""

    __tablename__ = "activity_events"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(_fk("organizations.id"), index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(_fk("users.id", "SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    summary: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class IdempotencyRecord(Base):
    """The first response to a (user, Idempotency-Key) pair, replayed on retries."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(_fk("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[bytes | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InstanceSecret(Base):
    """A secret this database's sandbox generated for itself (the token signing key).

    Kept in the database, not a file, so every process serving the same database (and every
    restart) signs and checks tokens with the same key without anyone choosing one.
    """

    __tablename__ = "instance_secrets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
