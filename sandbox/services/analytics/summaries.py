"""Organization and course summaries, counted from the live tables on every request.

Nothing is cached or pre-aggregated: the sandbox's data is small, and a summary that is always
exact is what an assistant answering "how many students are enrolled?" needs. Every status of an
enum appears in `by_status`, with 0 when nothing has it, so clients never have to guess keys.
Cancelled enrollments are counted in `by_status` but left out of progress and completion figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from sandbox.services.analytics.schemas import (
    CourseActivity,
    CourseSummary,
    OrganizationSummary,
    StatusCounts,
)
from sandbox.services.organization_management.organization_schemas import ActivityResponse
from sandbox.shared.enums import (
    DifficultyLevel,
    EnrollmentStatus,
    MemberRole,
    MembershipStatus,
    ProjectStatus,
    TrackStatus,
)
from sandbox.shared.models import (
    ActivityEvent,
    Course,
    Enrollment,
    Membership,
    Organization,
    Project,
    Track,
    TrackEnrollment,
    utcnow,
)

RECENT_EVENTS = 5
WINDOW = timedelta(days=30)


def _grouped(
    session: Session, column: InstrumentedAttribute[Any], where: ColumnElement[bool], keys: Iterable[str]
) -> dict[str, int]:
    counts = {str(key): 0 for key in keys}
    for value, count in session.execute(select(column, func.count()).where(where).group_by(column)):
        counts[str(value)] = count
    return counts


def _status_counts(counts: dict[str, int]) -> StatusCounts:
    return StatusCounts(total=sum(counts.values()), by_status=counts)


def organization_summary(session: Session, organization: Organization) -> OrganizationSummary:
    """Counts of projects, tracks, courses, members and enrollments of the organization."""
    org_id = organization.id
    course_ids = select(Course.id).where(Course.organization_id == org_id).scalar_subquery()
    track_ids = select(Track.id).where(Track.organization_id == org_id).scalar_subquery()
    published = _grouped(session, Course.is_published, Course.organization_id == org_id, ["True", "False"])
    return OrganizationSummary(
        organization_id=org_id,
        projects=_status_counts(
            _grouped(session, Project.status, Project.organization_id == org_id, ProjectStatus)
        ),
        tracks=_status_counts(_grouped(session, Track.status, Track.organization_id == org_id, TrackStatus)),
        tracks_by_difficulty_level=_grouped(
            session, Track.difficulty_level, Track.organization_id == org_id, DifficultyLevel
        ),
        courses=_status_counts({"published": published["True"], "unpublished": published["False"]}),
        members=_status_counts(
            _grouped(session, Membership.status, Membership.organization_id == org_id, MembershipStatus)
        ),
        members_by_role=_grouped(
            session, Membership.role_type, Membership.organization_id == org_id, MemberRole
        ),
        enrollments=_status_counts(
            _grouped(session, Enrollment.status, Enrollment.course_id.in_(course_ids), EnrollmentStatus)
        ),
        track_enrollments=_status_counts(
            _grouped(
                session, TrackEnrollment.status, TrackEnrollment.track_id.in_(track_ids), EnrollmentStatus
            )
        ),
        generated_at=utcnow(),
    )


def course_summary(session: Session, course: Course) -> CourseSummary:
    """Enrollments by status, progress, completion and recent activity of one course."""
    now = utcnow()
    since = now - WINDOW
    by_status = _grouped(session, Enrollment.status, Enrollment.course_id == course.id, EnrollmentStatus)
    counted = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)
    average = session.scalar(
        select(func.avg(Enrollment.progress_percent)).where(
            Enrollment.course_id == course.id, Enrollment.status.in_(counted)
        )
    )
    live = by_status[EnrollmentStatus.ACTIVE] + by_status[EnrollmentStatus.COMPLETED]
    new = session.scalar(
        select(func.count())
        .select_from(Enrollment)
        .where(Enrollment.course_id == course.id, Enrollment.enrolled_at >= since)
    )
    events = select(ActivityEvent).where(ActivityEvent.entity_id == str(course.id))
    recent = session.scalars(events.order_by(ActivityEvent.created_at.desc()).limit(RECENT_EVENTS)).all()
    events_30 = session.scalar(
        select(func.count()).select_from(events.where(ActivityEvent.created_at >= since).subquery())
    )
    return CourseSummary(
        course_id=course.id,
        title=course.title,
        is_published=course.is_published,
        track_id=course.track_id,
        enrollments=_status_counts(by_status),
        new_enrollments_last_30_days=new or 0,
        average_progress_percent=round(float(average), 1) if average is not None else None,
        completion_rate=round(by_status[EnrollmentStatus.COMPLETED] / live, 3) if live else None,
        activity=CourseActivity(
            events_last_30_days=events_30 or 0,
            last_activity_at=recent[0].created_at if recent else None,
            recent=[ActivityResponse.model_validate(event) for event in recent],
        ),
        generated_at=now,
    )
