"""Members of an organization: invite, list, remove. Rules:

- the permission depends on the role being added or removed: organization admins need
  add_organization_admins / remove_organization_admins, instructors add_instructors_to_org /
  remove_instructors_from_org, students add_students_to_project / remove_students_from_project;
  listing needs view_instructors (organization admins and instructors);
- an organization holds at most `organizations.max_members_per_org` memberships (platform.yaml):
  409 `organization_member_limit`;
- a user belongs to one organization. Inviting an email of this organization answers 409
  `already_member`. Inviting an email that cannot join (a site admin, a member of another
  organization) answers exactly as inviting an unknown address does (201, a pending member, a
  token) but changes nothing: a different answer would tell any admin which addresses have
  accounts elsewhere. (That invitation then never appears in the member list, as a real platform
  with a separate invitations table would avoid; the sandbox keeps one membership per user.)
- every invitee stays pending until they verify their email (POST /auth/verify-email with the
  token this response carries, as the real platform would email it), also when the address
  already has an account (a former member): nobody is made an active member without consenting,
  and the answer does not reveal that the account existed. Pending members cannot log in, and
  pending instructors cannot be assigned to tracks;
- `project_ids` limits an instructor or student to those projects of the organization (404 on
  `project_ids` for a project it does not have);
- removing a member deactivates the account, drops their track assignments and cancels their
  active enrollments; nobody can remove themselves (409 `cannot_remove_self`) and the last active
  organization admin cannot be removed (409 `last_organization_admin`).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Result, Select, delete, func, select, update
from sqlalchemy.orm import Session

from sandbox.services.organization_management.member_schemas import MemberInvite, MemberResponse
from sandbox.shared.activity import record_activity
from sandbox.shared.auth import Principal
from sandbox.shared.context import SandboxContext
from sandbox.shared.enums import EnrollmentStatus, MemberRole, MembershipStatus, Role
from sandbox.shared.errors import ApiError, conflict, forbidden, not_found
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
from sandbox.shared.permissions import Permission, permissions_for
from sandbox.shared.persistence import guarded_write
from sandbox.shared.schemas import DeleteResult, normalize_email
from sandbox.shared.security import hash_token, new_one_time_token

ADD_PERMISSION = {
    MemberRole.ORGANIZATION_ADMIN: Permission.ADD_ORGANIZATION_ADMINS,
    MemberRole.INSTRUCTOR: Permission.ADD_INSTRUCTORS_TO_ORG,
    MemberRole.STUDENT: Permission.ADD_STUDENTS_TO_PROJECT,
}
REMOVE_PERMISSION = {
    MemberRole.ORGANIZATION_ADMIN: Permission.REMOVE_ORGANIZATION_ADMINS,
    MemberRole.INSTRUCTOR: Permission.REMOVE_INSTRUCTORS_FROM_ORG,
    MemberRole.STUDENT: Permission.REMOVE_STUDENTS_FROM_PROJECT,
}


def _require(principal: Principal, permission: Permission, action: str) -> None:
    if not principal.has(permission):
        raise forbidden(f"Your role ({principal.role}) lacks {permission}, needed to {action}")


def _cannot_join(session: Session, organization_id: uuid.UUID, email: str) -> bool:
    """A site admin, or a member of another organization."""
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        return False
    membership = session.scalar(select(Membership).where(Membership.user_id == user.id))
    return user.is_site_admin or (membership is not None and membership.organization_id != organization_id)


def _invite_conflict(session: Session, organization_id: uuid.UUID, email: str) -> ApiError | None:
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        return None
    membership = session.scalar(select(Membership).where(Membership.user_id == user.id))
    if membership is not None and membership.organization_id == organization_id:
        return conflict(
            f"{email} is already a member of this organization", rule="already_member", field="user_email"
        )
    return None


def invite_member(
    session: Session,
    context: SandboxContext,
    principal: Principal,
    organization: Organization,
    body: MemberInvite,
) -> tuple[MemberResponse, str]:
    """Add a membership (pending until the email is verified): its view and the verification token."""
    _require(principal, ADD_PERMISSION[body.role_type], f"add a {body.role_type}")
    limit = context.config.organizations.max_members_per_org
    members = session.scalar(
        select(func.count()).select_from(Membership).where(Membership.organization_id == organization.id)
    )
    if (members or 0) >= limit:
        raise conflict(f"An organization may have at most {limit} members", rule="organization_member_limit")
    email = normalize_email(body.user_email)

    def find() -> ApiError | None:
        return _invite_conflict(session, organization.id, email)

    projects = []
    for project_id in dict.fromkeys(body.project_ids):
        project = session.get(Project, project_id)
        if project is None or project.organization_id != organization.id:
            raise not_found("Project", field="project_ids")
        projects.append(project)
    error = find()
    if error is not None:
        raise error
    if _cannot_join(session, organization.id, email):
        return _unchanged_invitation(email, body, [p.id for p in projects]), new_one_time_token()
    with guarded_write(session, find):
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, full_name=body.full_name or "", email_verified=False)
            session.add(user)
        user.is_active = True
        if body.full_name:
            user.full_name = body.full_name
        user.email_verified = False  # the invitee confirms, also when the account already existed
        session.flush()
        now = utcnow()
        membership = Membership(
            user_id=user.id,
            organization_id=organization.id,
            role_type=body.role_type,
            status=MembershipStatus.PENDING,
            invited_by_id=principal.user_id,
        )
        session.add(membership)
        session.flush()
        session.add_all(MembershipProject(membership_id=membership.id, project_id=p.id) for p in projects)
        token = new_one_time_token()
        hours = context.config.auth.verification_token_ttl_hours
        session.add(
            EmailVerification(
                user_id=user.id, token_hash=hash_token(token), expires_at=now + timedelta(hours=hours)
            )
        )
        record_activity(
            session,
            organization_id=organization.id,
            actor_id=principal.user_id,
            action="member.invited",
            entity_type="membership",
            entity_id=membership.id,
            summary=f"{email} invited as {body.role_type}",
        )
    return member_response(session, membership), token


def _unchanged_invitation(email: str, body: MemberInvite, project_ids: list[uuid.UUID]) -> MemberResponse:
    """What inviting a new address answers, for an address that cannot join; nothing is stored."""
    role = MemberRole(body.role_type)
    return MemberResponse(
        membership_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        email=email,
        full_name=body.full_name or "",
        role_type=role,
        status=MembershipStatus.PENDING,
        email_verified=False,
        project_ids=project_ids,
        track_ids=[],
        permissions=sorted(permissions_for(Role(role))),
        invited_at=utcnow(),
        accepted_at=None,
    )


def _rowcount(result: Result[Any]) -> int:
    """Rows a bulk UPDATE or DELETE touched."""
    return int(cast(CursorResult[Any], result).rowcount)


def remove_member(session: Session, principal: Principal, membership: Membership) -> DeleteResult:
    """Remove a membership: deactivate the account, drop assignments, cancel enrollments."""
    role = MemberRole(membership.role_type)
    _require(principal, REMOVE_PERMISSION[role], f"remove a {role}")
    if membership.user_id == principal.user_id:
        raise conflict("You cannot remove yourself from the organization", rule="cannot_remove_self")
    org_id = membership.organization_id
    if role is MemberRole.ORGANIZATION_ADMIN and membership.status == MembershipStatus.ACTIVE:
        admins = session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.organization_id == org_id,
                Membership.role_type == MemberRole.ORGANIZATION_ADMIN,
                Membership.status == MembershipStatus.ACTIVE,
            )
        )
        if (admins or 0) <= 1:
            raise conflict(
                "The last active organization admin cannot be removed", rule="last_organization_admin"
            )
    user_id = membership.user_id
    org_tracks = select(Track.id).where(Track.organization_id == org_id).scalar_subquery()
    org_courses = select(Course.id).where(Course.organization_id == org_id).scalar_subquery()
    assignments = _rowcount(
        session.execute(
            delete(TrackInstructor).where(
                TrackInstructor.user_id == user_id, TrackInstructor.track_id.in_(org_tracks)
            )
        )
    )
    active = EnrollmentStatus.ACTIVE
    cancelled = _rowcount(
        session.execute(
            update(Enrollment)
            .where(
                Enrollment.student_id == user_id,
                Enrollment.course_id.in_(org_courses),
                Enrollment.status == active,
            )
            .values(status=EnrollmentStatus.CANCELLED)
        )
    )
    cancelled += _rowcount(
        session.execute(
            update(TrackEnrollment)
            .where(
                TrackEnrollment.student_id == user_id,
                TrackEnrollment.track_id.in_(org_tracks),
                TrackEnrollment.status == active,
            )
            .values(status=EnrollmentStatus.CANCELLED)
        )
    )
    user = session.get(User, user_id)
    if user is not None:
        user.is_active = False
    session.delete(membership)
    record_activity(
        session,
        organization_id=org_id,
        actor_id=principal.user_id,
        action="member.removed",
        entity_type="membership",
        entity_id=membership.id,
        summary=f"{user.email if user else user_id} removed ({role})",
    )
    session.commit()
    return DeleteResult(
        id=membership.id, cascaded={"track_assignments": assignments, "enrollments_cancelled": cancelled}
    )


def members_query(
    organization_id: uuid.UUID, role_type: MemberRole | None, status: MembershipStatus | None
) -> Select[Membership]:
    """The organization's memberships, filtered, oldest invitation first."""
    stmt = select(Membership).where(Membership.organization_id == organization_id)
    if role_type is not None:
        stmt = stmt.where(Membership.role_type == role_type)
    if status is not None:
        stmt = stmt.where(Membership.status == status)
    return stmt.order_by(Membership.invited_at, Membership.id)


def member_response(session: Session, membership: Membership) -> MemberResponse:
    """The API view of a membership."""
    user = session.get(User, membership.user_id)
    assert user is not None  # the foreign key guarantees it
    project_ids = session.scalars(
        select(MembershipProject.project_id).where(MembershipProject.membership_id == membership.id)
    ).all()
    if membership.role_type == MemberRole.STUDENT:
        track_stmt = select(TrackEnrollment.track_id).where(TrackEnrollment.student_id == user.id)
    else:
        track_stmt = select(TrackInstructor.track_id).where(TrackInstructor.user_id == user.id)
    return MemberResponse(
        membership_id=membership.id,
        user_id=user.id,
        email=user.email,
        full_name=user.full_name,
        role_type=MemberRole(membership.role_type),
        status=MembershipStatus(membership.status),
        email_verified=user.email_verified,
        project_ids=list(project_ids),
        track_ids=list(session.scalars(track_stmt).all()),
        permissions=sorted(permissions_for(Role(membership.role_type))),
        invited_at=membership.invited_at,
        accepted_at=membership.accepted_at,
    )
