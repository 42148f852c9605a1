"""Loading the demo data (`seed_data.py`) into the database, and the demo logins.

An empty database is seeded on first start (SANDBOX_SEED_ON_START, default on);
`python -m sandbox seed --reset` drops every table and seeds again. Seeding is deterministic:
ids are UUID5 of the names, so two seeds of a reset database give the same rows.

DEMO_LOGINS maps each organization's slug to role -> (email, password) for every role
(site_admin is the same platform-wide account in both). Unverified instructors
(UNVERIFIED_INSTRUCTORS) cannot log in until they verify their email. Their verification tokens
are random, never written in the source or the docs (a published token would let anyone activate
another organization's instructor): `python -m sandbox seed` prints fresh ones on the operator's
terminal (`issue_verification_tokens`), which is the sandbox's demo mode.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from sandbox.seed_data import ORGANIZATIONS, SITE_ADMIN
from sandbox.seed_types import SeedOrganization, SeedTrack, SeedUser
from sandbox.shared.activity import record_activity
from sandbox.shared.config import PlatformConfig
from sandbox.shared.db import create_schema, drop_schema
from sandbox.shared.enums import EnrollmentStatus, MembershipStatus, ProjectStatus, TrackStatus
from sandbox.shared.models import (
    Course,
    EmailVerification,
    Enrollment,
    Membership,
    MembershipProject,
    Organization,
    Project,
    Track,
    TrackEnrollment,
    TrackInstructor,
    User,
    utcnow,
)
from sandbox.shared.security import hash_password, hash_token
from sandbox.shared.text import name_key

SEED_NAMESPACE = uuid.UUID("0b7c6f0e-4a52-5f38-9d59-6a1e2c3b4d5e")
UNVERIFIED_TOKEN_TTL = timedelta(days=365)

DEMO_LOGINS: dict[str, dict[str, tuple[str, str]]] = {
    org.slug: {
        "site_admin": (SITE_ADMIN.email, SITE_ADMIN.password or ""),
        **{
            role: next((u.email, u.password) for u in org.users if u.role == role and u.password)
            for role in ("organization_admin", "instructor", "student")
        },
    }
    for org in ORGANIZATIONS
}

UNVERIFIED_INSTRUCTORS: dict[str, str] = {
    org.slug: next(u.email for u in org.users if u.pending) for org in ORGANIZATIONS
}
"""Organization slug -> email of its seeded instructor who has not verified yet."""


def seed_id(kind: str, *names: str) -> uuid.UUID:
    """The fixed id of a seeded row: seed_id("track", "northwind-academy", "Python for Data Analysis")."""
    return uuid.uuid5(SEED_NAMESPACE, ":".join((kind, *names)))


@lru_cache(maxsize=8)
def _password_hash(password: str, iterations: int) -> str:
    """Hashing is deliberately slow; demo users share a few passwords, so hash each once per process."""
    return hash_password(password, iterations)


class _Seeder:
    def __init__(self, session: Session, config: PlatformConfig) -> None:
        self.session = session
        self.iterations = config.auth.password_hash_iterations
        self.users: dict[str, User] = {}

    def user(self, seed: SeedUser) -> User:
        user = User(
            id=seed_id("user", seed.email),
            email=seed.email,
            full_name=seed.full_name,
            password_hash=_password_hash(seed.password, self.iterations) if seed.password else None,
            email_verified=not seed.pending,
            is_site_admin=seed.role == "site_admin",
        )
        self.session.add(user)
        self.session.flush()  # rows are flushed parent-first: the models declare no relationships
        self.users[seed.email] = user
        return user

    def organization(self, seed: SeedOrganization) -> None:
        org = Organization(
            id=seed_id("organization", seed.slug),
            name=seed.name,
            slug=seed.slug,
            description=seed.description,
            contact_email=seed.contact_email,
            website=seed.website,
        )
        self.session.add(org)
        self.session.flush()
        admin_id = seed_id("user", next(u.email for u in seed.users if u.role == "organization_admin"))
        for seed_user in seed.users:
            self.member(org, seed_user, admin_id)
        self.session.flush()
        for project_seed in seed.projects:
            project = Project(
                id=seed_id("project", seed.slug, project_seed.slug),
                organization_id=org.id,
                name=project_seed.name,
                name_key=name_key(project_seed.name),
                slug=project_seed.slug,
                description=project_seed.description,
                duration_weeks=project_seed.duration_weeks,
                max_participants=project_seed.max_participants,
                start_date=project_seed.start_date,
                end_date=project_seed.end_date,
                target_roles=list(project_seed.target_roles),
                status=ProjectStatus.ACTIVE if project_seed.published else ProjectStatus.DRAFT,
                published_at=utcnow() if project_seed.published else None,
                created_by_id=admin_id,
            )
            self.session.add(project)
            self.session.flush()
            self.log(
                org.id,
                admin_id,
                "project.created",
                "project",
                project.id,
                f"Project '{project.name}' created",
            )
            for track_seed in project_seed.tracks:
                self.track(org, project, track_seed, admin_id)
        self.session.flush()
        for seed_user in seed.users:
            for slug in seed_user.project_slugs:
                self.session.add(
                    MembershipProject(
                        membership_id=seed_id("membership", seed_user.email),
                        project_id=seed_id("project", seed.slug, slug),
                    )
                )

    def member(self, org: Organization, seed: SeedUser, admin_id: uuid.UUID) -> None:
        user = self.user(seed)
        pending = seed.pending
        self.session.add(
            Membership(
                id=seed_id("membership", seed.email),
                user_id=user.id,
                organization_id=org.id,
                role_type=seed.role,
                status=MembershipStatus.PENDING if pending else MembershipStatus.ACTIVE,
                invited_by_id=None if seed.role == "organization_admin" else admin_id,
                accepted_at=None if pending else utcnow(),
            )
        )
        self.session.flush()
        if seed.pending:  # a token nobody knows: `issue_verification_tokens` hands out usable ones
            self.session.add(_verification(user.id, secrets.token_urlsafe(24)))

    def track(self, org: Organization, project: Project, seed: SeedTrack, admin_id: uuid.UUID) -> None:
        track = Track(
            id=seed_id("track", org.slug, seed.name),
            organization_id=org.id,
            project_id=project.id,
            name=seed.name,
            name_key=name_key(seed.name),
            description=seed.description,
            difficulty_level=seed.difficulty_level,
            duration_weeks=seed.duration_weeks,
            max_students=seed.max_students,
            learning_objectives=list(seed.learning_objectives),
            status=TrackStatus.ACTIVE if seed.published else TrackStatus.DRAFT,
            published_at=utcnow() if seed.published else None,
            created_by_id=admin_id,
        )
        self.session.add(track)
        self.session.flush()
        self.log(org.id, admin_id, "track.created", "track", track.id, f"Track '{track.name}' created")
        instructor = self.users[seed.instructors[0]] if seed.instructors else None
        for email in seed.instructors:
            self.session.add(
                TrackInstructor(track_id=track.id, user_id=self.users[email].id, assigned_by_id=admin_id)
            )
        courses = []
        for course_seed in seed.courses:
            course = Course(
                id=seed_id("course", org.slug, course_seed.title),
                organization_id=org.id,
                track_id=track.id,
                instructor_id=instructor.id if instructor else None,
                title=course_seed.title,
                description=course_seed.description,
                difficulty_level=seed.difficulty_level,
                category=course_seed.category,
                estimated_duration=course_seed.estimated_duration,
                duration_unit="weeks",
                price=course_seed.price,
                tags=list(course_seed.tags),
                is_published=course_seed.published,
                published_at=utcnow() if course_seed.published else None,
                created_by_id=instructor.id if instructor else admin_id,
            )
            self.session.add(course)
            courses.append(course)
        self.session.flush()
        for index, email in enumerate(seed.students):
            student = self.users[email]
            self.session.add(
                TrackEnrollment(track_id=track.id, student_id=student.id, enrolled_by_id=admin_id)
            )
            for course in (c for c in courses if c.is_published):
                done = index == 0
                self.session.add(
                    Enrollment(
                        course_id=course.id,
                        student_id=student.id,
                        status=EnrollmentStatus.COMPLETED if done else EnrollmentStatus.ACTIVE,
                        progress_percent=100 if done else (37 * (index + 1) + len(course.title)) % 95,
                        completed_at=utcnow() if done else None,
                        enrolled_by_id=admin_id,
                    )
                )

    def log(
        self, org_id: uuid.UUID, actor: uuid.UUID, action: str, kind: str, entity: uuid.UUID, text: str
    ) -> None:
        record_activity(
            self.session,
            organization_id=org_id,
            actor_id=actor,
            action=action,
            entity_type=kind,
            entity_id=entity,
            summary=text,
        )


def seed_database(session: Session, config: PlatformConfig) -> None:
    """Insert the demo world into an empty database and commit."""
    seeder = _Seeder(session, config)
    seeder.user(SITE_ADMIN)
    for organization in ORGANIZATIONS:
        seeder.organization(organization)
    session.commit()


def seed_if_empty(session_factory: sessionmaker[Session], config: PlatformConfig) -> bool:
    """Seed when no organization exists yet; True if this call seeded."""
    with session_factory() as session:
        if session.scalar(select(Organization.id).limit(1)) is not None:
            return False
        if session.scalar(select(User.id).limit(1)) is not None:
            return False  # someone deleted every organization on purpose: do not resurrect them
        try:
            seed_database(session, config)
        except IntegrityError:
            session.rollback()
            if session.scalar(select(Organization.id).limit(1)) is None:
                raise
            return False  # another process seeded at the same moment
        return True


def reset_database(engine: Engine, session_factory: sessionmaker[Session], config: PlatformConfig) -> None:
    """Drop every table, recreate the schema and seed it."""
    drop_schema(engine)
    create_schema(engine)
    with session_factory() as session:
        seed_database(session, config)


def _verification(user_id: uuid.UUID, token: str) -> EmailVerification:
    return EmailVerification(
        user_id=user_id, token_hash=hash_token(token), expires_at=utcnow() + UNVERIFIED_TOKEN_TTL
    )


def issue_verification_tokens(session_factory: sessionmaker[Session]) -> dict[str, tuple[str, str]]:
    """Fresh verification tokens for the seeded instructors still unverified: slug -> (email, token).

    Earlier unused tokens of those users are withdrawn, so only the ones just shown work.
    Organizations whose instructor already verified are left out.
    """
    issued: dict[str, tuple[str, str]] = {}
    with session_factory() as session:
        for slug, email in UNVERIFIED_INSTRUCTORS.items():
            user = session.scalar(select(User).where(User.email == email))
            if user is None or user.email_verified:
                continue
            session.execute(
                delete(EmailVerification).where(
                    EmailVerification.user_id == user.id, EmailVerification.used_at.is_(None)
                )
            )
            token = secrets.token_urlsafe(24)
            session.add(_verification(user.id, token))
            issued[slug] = (email, token)
        session.commit()
    return issued
