"""Assigning instructors to tracks (POST /rbac/tracks/{track_id}/instructors). Rules:

- needs assign_instructors_to_tracks (organization admins, site admins); reading the list needs
  view_instructors;
- name the instructor by `instructor_id` or `instructor_email`, exactly one
  (422 `instructor_reference_required`);
- the instructor must be a member of the track's organization (404 `instructor_not_found`) with
  the instructor role (422 `not_an_instructor`);
- the instructor must have verified their email (409 `instructor_email_not_verified`): an invited
  instructor is assigned only after POST /auth/verify-email;
- an instructor limited to some projects (the invitation's project_ids) can only teach tracks of
  those projects (409 `instructor_not_in_project`);
- an instructor is assigned to a track once (409 `instructor_already_assigned`).
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from sandbox.services.organization_management.member_schemas import InstructorAssign, TrackInstructorResponse
from sandbox.shared.activity import record_activity
from sandbox.shared.auth import Principal
from sandbox.shared.enums import MemberRole
from sandbox.shared.errors import ApiError, conflict, unprocessable
from sandbox.shared.models import Membership, MembershipProject, Track, TrackInstructor, User
from sandbox.shared.persistence import guarded_write
from sandbox.shared.schemas import normalize_email


def _find_instructor(session: Session, track: Track, body: InstructorAssign) -> tuple[User, Membership]:
    if (body.instructor_id is None) == (body.instructor_email is None):
        raise unprocessable(
            "Give exactly one of instructor_id or instructor_email",
            rule="instructor_reference_required",
            field="instructor_id",
        )
    field = "instructor_id" if body.instructor_id else "instructor_email"
    stmt = select(User, Membership).join(Membership, Membership.user_id == User.id)
    if body.instructor_id is not None:
        stmt = stmt.where(User.id == body.instructor_id)
    else:
        stmt = stmt.where(User.email == normalize_email(str(body.instructor_email)))
    row = session.execute(stmt.where(Membership.organization_id == track.organization_id)).first()
    if row is None or not row[0].is_active:
        raise ApiError(
            404, "Instructor not found in this organization", rule="instructor_not_found", field=field
        )
    user, membership = row
    if membership.role_type != MemberRole.INSTRUCTOR:
        raise unprocessable(
            f"{user.email} is a {membership.role_type}, not an instructor",
            rule="not_an_instructor",
            field=field,
        )
    return user, membership


def _already_assigned(session: Session, track: Track, user: User) -> ApiError | None:
    stmt = select(TrackInstructor.id).where(
        TrackInstructor.track_id == track.id, TrackInstructor.user_id == user.id
    )
    if session.scalar(stmt) is None:
        return None
    return conflict(f"{user.email} already teaches this track", rule="instructor_already_assigned")


def assign_instructor(
    session: Session, principal: Principal, track: Track, body: InstructorAssign
) -> TrackInstructorResponse:
    """Assign a verified instructor of the organization to teach the track."""
    user, membership = _find_instructor(session, track, body)
    if not user.email_verified:
        raise conflict(
            f"{user.email} has not verified their email yet; instructors can be assigned once verified",
            rule="instructor_email_not_verified",
        )
    allowed = set(
        session.scalars(
            select(MembershipProject.project_id).where(MembershipProject.membership_id == membership.id)
        )
    )
    if allowed and track.project_id not in allowed:
        raise conflict(
            f"{user.email} is limited to other projects of the organization",
            rule="instructor_not_in_project",
        )

    def find() -> ApiError | None:
        return _already_assigned(session, track, user)

    error = find()
    if error is not None:
        raise error
    with guarded_write(session, find):
        assignment = TrackInstructor(track_id=track.id, user_id=user.id, assigned_by_id=principal.user_id)
        session.add(assignment)
        session.flush()
        record_activity(
            session,
            organization_id=track.organization_id,
            actor_id=principal.user_id,
            action="track.instructor_assigned",
            entity_type="track",
            entity_id=track.id,
            summary=f"{user.email} assigned to teach '{track.name}'",
        )
    return instructor_response(assignment, user)


def instructor_response(assignment: TrackInstructor, user: User) -> TrackInstructorResponse:
    """The API view of an assignment."""
    return TrackInstructorResponse(
        assignment_id=assignment.id,
        track_id=assignment.track_id,
        user_id=user.id,
        email=user.email,
        full_name=user.full_name,
        assigned_at=assignment.assigned_at,
    )


def track_instructors_query(track: Track) -> Select[TrackInstructor]:
    """The track's instructor assignments, oldest first."""
    return (
        select(TrackInstructor)
        .where(TrackInstructor.track_id == track.id)
        .order_by(TrackInstructor.assigned_at)
    )
