"""Enrollments: students in courses. Rules:

- enrolling needs assign_students_to_tracks (organization admins, site admins);
- the student is named by email and must be a student member (pending or active) of the
  course's organization: an unknown email, or one of another organization, answers 404
  `student_not_found`; an instructor's or admin's email answers 422 `not_a_student`;
- only published courses accept enrollments (409 `course_not_published`);
- a student is enrolled in a course at most once (409 `already_enrolled`, also enforced by a
  database constraint); re-enrolling a cancelled enrollment reactivates it;
- reading: organization admins see every enrollment of their organization (view_student_progress),
  instructors only those of courses they own or whose track they teach, students only their own
  (view_own_progress).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, or_, select, true
from sqlalchemy.orm import Session

from sandbox.services.course_management.enrollment_schemas import EnrollmentCreate, EnrollmentResponse
from sandbox.services.organization_management.track_access import taught_track_ids
from sandbox.shared.activity import record_activity
from sandbox.shared.auth import Principal
from sandbox.shared.enums import EnrollmentStatus, MemberRole
from sandbox.shared.errors import ApiError, conflict, unprocessable
from sandbox.shared.models import Course, Enrollment, Membership, User, utcnow
from sandbox.shared.permissions import Permission
from sandbox.shared.persistence import guarded_write
from sandbox.shared.schemas import normalize_email
from sandbox.shared.scoping import get_in_org


def find_student(session: Session, organization_id: uuid.UUID, email: str) -> User | ApiError:
    """The student member of the organization with this email, or the error that says why not."""
    row = session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(User.email == normalize_email(email), Membership.organization_id == organization_id)
    ).first()
    if row is None or not row[0].is_active:
        return ApiError(
            404,
            f"No student with email {email} in this organization",
            rule="student_not_found",
            field="student_email",
        )
    user, membership = row
    if membership.role_type != MemberRole.STUDENT:
        return unprocessable(
            f"{email} is a {membership.role_type}, not a student", rule="not_a_student", field="student_email"
        )
    return user


def enroll_in_course(
    session: Session, principal: Principal, course: Course, student: User, *, check_published: bool = True
) -> Enrollment:
    """Add (or reactivate) the student's enrollment in a published course, in the current transaction."""
    if check_published and not course.is_published:
        raise conflict(
            f"Course '{course.title}' is not published; publish it before enrolling students",
            rule="course_not_published",
            field="course_id",
        )
    existing = session.scalar(
        select(Enrollment).where(Enrollment.course_id == course.id, Enrollment.student_id == student.id)
    )
    if existing is not None and existing.status != EnrollmentStatus.CANCELLED:
        raise conflict(
            f"{student.email} is already enrolled in '{course.title}'",
            rule="already_enrolled",
            field="student_email",
        )
    if existing is not None:
        existing.status = EnrollmentStatus.ACTIVE
        existing.enrolled_at = utcnow()
        existing.enrolled_by_id = principal.user_id
        enrollment = existing
    else:
        enrollment = Enrollment(course_id=course.id, student_id=student.id, enrolled_by_id=principal.user_id)
        session.add(enrollment)
    session.flush()
    record_activity(
        session,
        organization_id=course.organization_id,
        actor_id=principal.user_id,
        action="enrollment.created",
        entity_type="course",
        entity_id=course.id,
        summary=f"{student.email} enrolled in '{course.title}'",
    )
    return enrollment


def create_enrollment(session: Session, principal: Principal, body: EnrollmentCreate) -> EnrollmentResponse:
    """POST /enrollments: one student, one course."""
    course = get_in_org(session, Course, body.course_id, principal, entity="Course", field="course_id")
    student = find_student(session, course.organization_id, body.student_email)
    if isinstance(student, ApiError):
        raise student
    email = student.email

    def enrolled_meanwhile() -> ApiError:  # a concurrent request enrolled the same student first
        return conflict(f"{email} is already enrolled", rule="already_enrolled", field="student_email")

    with guarded_write(session, enrolled_meanwhile):
        enrollment = enroll_in_course(session, principal, course, student)
    return enrollment_response(enrollment, email)


def enrollment_responses(session: Session, enrollments: Sequence[Enrollment]) -> list[EnrollmentResponse]:
    """API views of several enrollments, with the students' emails looked up in one query."""
    ids = {e.student_id for e in enrollments}
    emails = dict(session.execute(select(User.id, User.email).where(User.id.in_(ids))).all())
    return [enrollment_response(e, emails.get(e.student_id, "")) for e in enrollments]


def enrollment_response(enrollment: Enrollment, email: str) -> EnrollmentResponse:
    """The API view of an enrollment."""
    return EnrollmentResponse(
        id=enrollment.id,
        course_id=enrollment.course_id,
        student_id=enrollment.student_id,
        student_email=email,
        status=EnrollmentStatus(enrollment.status),
        progress_percent=enrollment.progress_percent,
        enrolled_at=enrollment.enrolled_at,
        completed_at=enrollment.completed_at,
    )


def instructor_course_condition(user_id: uuid.UUID) -> ColumnElement[bool]:
    """Courses an instructor is responsible for: owned, or in a track they teach."""
    return or_(Course.instructor_id == user_id, Course.track_id.in_(taught_track_ids(user_id)))


def enrollments_query(
    principal: Principal, course_id: uuid.UUID | None, status: EnrollmentStatus | None
) -> Select[Enrollment]:
    """Enrollments the caller may see, newest first."""
    org = true() if principal.is_site_admin else Course.organization_id == principal.organization_id
    stmt = select(Enrollment).join(Course, Course.id == Enrollment.course_id).where(org)
    if principal.has(Permission.ASSIGN_STUDENTS_TO_TRACKS):
        pass  # organization admins and site admins: every enrollment they can reach
    elif principal.has(Permission.VIEW_ASSIGNED_STUDENTS):
        stmt = stmt.where(instructor_course_condition(principal.user_id))
    else:
        stmt = stmt.where(Enrollment.student_id == principal.user_id)
    if course_id is not None:
        stmt = stmt.where(Enrollment.course_id == course_id)
    if status is not None:
        stmt = stmt.where(Enrollment.status == status)
    return stmt.order_by(Enrollment.enrolled_at.desc(), Enrollment.id)
