"""Courses. Rules:

- organization admins manage every course of their organization (manage_courses) and alone may
  delete them (delete_courses); instructors may create courses and edit, publish or unpublish the
  ones they own (manage_assigned_content): another's course answers 403 `not_course_owner`;
- everyone in the organization reads courses (view_courses); students see published ones only
  (an unpublished course answers 404 to them);
- a course belongs to the caller's organization (organization_id other than theirs: 404); a
  `track_id` must be a track of that organization (404), and an instructor may only place a
  course in a track they teach (403 `not_assigned_to_track`);
- publishing needs a non-blank description (422 `publish_requires_description`), and a published
  course cannot have its description blanked; publishing a published course, or unpublishing an
  unpublished one, answers 409 `invalid_status_transition`;
- a course with active enrollments cannot be deleted (409 `active_enrollments`) unless
  `force=true`, which deletes its enrollments too.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, delete, func, select, true
from sqlalchemy.orm import Session

from sandbox.services.course_management.course_schemas import CourseCreate, CourseResponse, CourseUpdate
from sandbox.services.course_management.enrollment_queries import active_enrollment_count, cascade_counts
from sandbox.services.organization_management.track_access import teaches_track
from sandbox.shared.activity import record_activity
from sandbox.shared.auth import Principal
from sandbox.shared.enums import EnrollmentStatus
from sandbox.shared.errors import conflict, forbidden, not_found, unprocessable
from sandbox.shared.models import Course, Enrollment, Track, utcnow
from sandbox.shared.permissions import Permission
from sandbox.shared.schemas import DeleteResult
from sandbox.shared.scoping import get_in_org, get_organization


def can_manage(principal: Principal, course: Course) -> bool:
    """Admins manage every course; instructors only their own."""
    if principal.has(Permission.MANAGE_COURSES):
        return True
    return principal.has(Permission.MANAGE_ASSIGNED_CONTENT) and course.instructor_id == principal.user_id


def _require_manage(principal: Principal, course: Course) -> None:
    if not can_manage(principal, course):
        raise forbidden("Instructors can only change their own courses", rule="not_course_owner")


def _check_track(
    session: Session, principal: Principal, organization_id: uuid.UUID, track_id: uuid.UUID
) -> Track:
    track = session.get(Track, track_id)
    if (
        track is None
        or track.organization_id != organization_id
        or not principal.can_access_org(organization_id)
    ):
        raise not_found("Track", field="track_id")
    if not principal.has(Permission.MANAGE_COURSES) and not teaches_track(
        session, principal.user_id, track.id
    ):
        raise forbidden("Instructors can only add courses to tracks they teach", rule="not_assigned_to_track")
    return track


def _log(session: Session, principal: Principal, course: Course, action: str, summary: str) -> None:
    record_activity(
        session,
        organization_id=course.organization_id,
        actor_id=principal.user_id,
        action=f"course.{action}",
        entity_type="course",
        entity_id=course.id,
        summary=summary,
    )


def create_course(session: Session, principal: Principal, body: CourseCreate) -> Course:
    """Create an unpublished course; an instructor who creates it owns it."""
    org_id = body.organization_id or principal.organization_id
    if org_id is None:
        raise unprocessable(
            "Give the organization_id of the course", rule="organization_required", field="organization_id"
        )
    organization = get_organization(session, org_id, principal, field="organization_id")
    if body.track_id is not None:
        _check_track(session, principal, organization.id, body.track_id)
    is_instructor = not principal.has(Permission.MANAGE_COURSES)
    course = Course(
        organization_id=organization.id,
        instructor_id=principal.user_id if is_instructor else None,
        created_by_id=principal.user_id,
        **body.model_dump(exclude={"organization_id"}),
    )
    session.add(course)
    session.flush()
    _log(session, principal, course, "created", f"Course '{course.title}' created")
    session.commit()
    return course


def update_course(session: Session, principal: Principal, course: Course, body: CourseUpdate) -> Course:
    """Change the fields sent (a published course keeps a non-blank description)."""
    _require_manage(principal, course)
    changes = body.model_dump(exclude_unset=True)
    if "track_id" in changes and changes["track_id"] is not None:
        _check_track(session, principal, course.organization_id, changes["track_id"])
    if course.is_published and "description" in changes and not (changes["description"] or "").strip():
        raise unprocessable(
            "A published course needs a description; unpublish it first",
            rule="publish_requires_description",
            field="description",
        )
    for field, value in changes.items():
        if value is None and field not in ("track_id", "category", "estimated_duration"):
            continue
        setattr(course, field, value)
    _log(
        session,
        principal,
        course,
        "updated",
        f"Course '{course.title}' updated: {', '.join(sorted(changes))}",
    )
    session.commit()
    return course


def publish_course(session: Session, principal: Principal, course: Course) -> Course:
    """Make the course visible to students and open for enrollment."""
    _require_manage(principal, course)
    if course.is_published:
        raise conflict(
            "The course is already published", rule="invalid_status_transition", field="is_published"
        )
    if not course.description.strip():
        raise unprocessable(
            "Add a description before publishing the course",
            rule="publish_requires_description",
            field="description",
        )
    course.is_published = True
    course.published_at = utcnow()
    _log(session, principal, course, "published", f"Course '{course.title}' published")
    session.commit()
    return course


def unpublish_course(session: Session, principal: Principal, course: Course) -> Course:
    """Hide the course from students; existing enrollments stay."""
    _require_manage(principal, course)
    if not course.is_published:
        raise conflict("The course is not published", rule="invalid_status_transition", field="is_published")
    course.is_published = False
    course.published_at = None
    _log(session, principal, course, "unpublished", f"Course '{course.title}' unpublished")
    session.commit()
    return course


def delete_course(session: Session, principal: Principal, course: Course, *, force: bool) -> DeleteResult:
    """Delete the course; refused while it has active enrollments unless `force`."""
    active = active_enrollment_count(session, [], [course.id])
    if active and not force:
        raise conflict(
            f"Course has {active} active enrollments; pass force=true to delete it with them",
            rule="active_enrollments",
            field="force",
        )
    counts = cascade_counts(session, [], [course.id])
    _log(session, principal, course, "deleted", f"Course '{course.title}' deleted")
    session.execute(delete(Course).where(Course.id == course.id))
    session.commit()
    return DeleteResult(id=course.id, cascaded={"enrollments": counts["enrollments"]})


def get_readable_course(
    session: Session, principal: Principal, course_id: uuid.UUID, field: str | None = None
) -> Course:
    """The course if the caller may read it (students: published only), else 404."""
    course = get_in_org(session, Course, course_id, principal, entity="Course", field=field)
    if (
        not course.is_published
        and not principal.has(Permission.MANAGE_ASSIGNED_CONTENT)
        and not principal.has(Permission.MANAGE_COURSES)
    ):
        raise not_found("Course", field=field)
    return course


def courses_query(
    principal: Principal, organization_id: uuid.UUID | None, track_id: uuid.UUID | None, published_only: bool
) -> Select[Course]:
    """Courses the caller may read, filtered, by title."""
    if organization_id is not None:
        scope = Course.organization_id == organization_id
    elif principal.is_site_admin:
        scope = true()
    else:
        scope = Course.organization_id == principal.organization_id
    stmt = select(Course).where(scope)
    staff = principal.has(Permission.MANAGE_COURSES) or principal.has(Permission.MANAGE_ASSIGNED_CONTENT)
    if published_only or not staff:
        stmt = stmt.where(Course.is_published.is_(True))
    if track_id is not None:
        stmt = stmt.where(Course.track_id == track_id)
    return stmt.order_by(Course.title, Course.id)


def course_response(session: Session, course: Course) -> CourseResponse:
    """The API view of a course, with its active enrollment count."""
    enrolled = session.scalar(
        select(func.count())
        .select_from(Enrollment)
        .where(Enrollment.course_id == course.id, Enrollment.status == EnrollmentStatus.ACTIVE)
    )
    fields = {name: getattr(course, name) for name in CourseResponse.model_fields if hasattr(course, name)}
    return CourseResponse.model_validate({**fields, "enrollment_count": enrolled or 0})
