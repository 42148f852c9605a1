"""Bulk enrollment of students into a track by email (POST /tracks/{track_id}/enroll). Rules:

- needs assign_students_to_tracks; the track must be active (published): 409 `track_not_published`;
- at most `enrollment.max_emails_per_request` emails per request (platform.yaml): 422 `too_many_emails`;
- each email is judged on its own and reported in `successful_enrollments` or `failed_enrollments`
  (with the rule): `student_not_found` (no student with that email in the organization),
  `not_a_student`, `already_enrolled`, `track_full` (the track's max_students active enrollments
  are reached); duplicates in the list count once;
- an enrolled student is also enrolled in every published course of the track they are not in yet
  (`course_enrollments_created` counts them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.services.course_management.enrollments import enroll_in_course, find_student
from sandbox.services.organization_management.track_schemas import (
    FailedEnrollment,
    TrackEnrollRequest,
    TrackEnrollResponse,
)
from sandbox.services.organization_management.tracks import active_track_enrollments
from sandbox.shared.activity import record_activity
from sandbox.shared.auth import Principal
from sandbox.shared.context import SandboxContext
from sandbox.shared.enums import EnrollmentStatus, TrackStatus
from sandbox.shared.errors import ApiError, conflict, unprocessable
from sandbox.shared.models import Course, Enrollment, Track, TrackEnrollment, User, utcnow
from sandbox.shared.persistence import guarded_write
from sandbox.shared.schemas import normalize_email


def _enroll_in_track_courses(
    session: Session, principal: Principal, courses: list[Course], student: User
) -> int:
    created = 0
    for course in courses:
        existing = session.scalar(
            select(Enrollment.status).where(
                Enrollment.course_id == course.id, Enrollment.student_id == student.id
            )
        )
        if existing in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED):
            continue
        enroll_in_course(session, principal, course, student)
        created += 1
    return created


@dataclass
class _Outcome:
    succeeded: list[str] = field(default_factory=list)
    failed: list[FailedEnrollment] = field(default_factory=list)
    course_enrollments: int = 0


def _enroll_all(session: Session, principal: Principal, track: Track, emails: list[str]) -> _Outcome:
    courses = list(
        session.scalars(
            select(Course)
            .where(Course.track_id == track.id, Course.is_published.is_(True))
            .order_by(Course.title)
        )
    )
    enrolled = active_track_enrollments(session, track.id)
    outcome = _Outcome()
    for email in emails:
        student = find_student(session, track.organization_id, email)
        if isinstance(student, ApiError):
            outcome.failed.append(FailedEnrollment(email=email, rule=student.rule, detail=student.detail))
            continue
        existing = session.scalar(
            select(TrackEnrollment).where(
                TrackEnrollment.track_id == track.id, TrackEnrollment.student_id == student.id
            )
        )
        if existing is not None and existing.status != EnrollmentStatus.CANCELLED:
            outcome.failed.append(
                FailedEnrollment(
                    email=email, rule="already_enrolled", detail="Already enrolled in this track"
                )
            )
            continue
        if track.max_students is not None and enrolled >= track.max_students:
            outcome.failed.append(
                FailedEnrollment(
                    email=email,
                    rule="track_full",
                    detail=f"The track is full ({track.max_students} students)",
                )
            )
            continue
        if existing is not None:
            existing.status, existing.enrolled_at = EnrollmentStatus.ACTIVE, utcnow()
            existing.enrolled_by_id = principal.user_id
        else:
            session.add(
                TrackEnrollment(track_id=track.id, student_id=student.id, enrolled_by_id=principal.user_id)
            )
        session.flush()
        outcome.course_enrollments += _enroll_in_track_courses(session, principal, courses, student)
        enrolled += 1
        outcome.succeeded.append(email)
    return outcome


def enroll_students(
    session: Session, context: SandboxContext, principal: Principal, track: Track, body: TrackEnrollRequest
) -> TrackEnrollResponse:
    """Enroll each email that passes the rules; report the others with the rule they broke."""
    if track.status != TrackStatus.ACTIVE:
        raise conflict(
            f"Track '{track.name}' is {track.status}; publish it before enrolling students",
            rule="track_not_published",
        )
    limit = context.config.enrollment.max_emails_per_request
    if len(body.student_emails) > limit:
        raise unprocessable(
            f"At most {limit} emails per request", rule="too_many_emails", field="student_emails"
        )
    emails = list(dict.fromkeys(normalize_email(e) for e in body.student_emails))

    def concurrent_change() -> ApiError:
        return conflict("A concurrent enrollment changed this track; retry", rule="conflict")

    with guarded_write(session, concurrent_change):
        outcome = _enroll_all(session, principal, track, emails)
        if outcome.succeeded:
            record_activity(
                session,
                organization_id=track.organization_id,
                actor_id=principal.user_id,
                action="track.students_enrolled",
                entity_type="track",
                entity_id=track.id,
                summary=f"{len(outcome.succeeded)} students enrolled in track '{track.name}'",
            )
    return TrackEnrollResponse(
        track_id=track.id,
        successful_enrollments=outcome.succeeded,
        failed_enrollments=outcome.failed,
        total_enrolled=len(outcome.succeeded),
        course_enrollments_created=outcome.course_enrollments,
    )
