"""Counting what hangs below a project, track or course before it is deleted.

The delete rule (BUSINESS_RULES.md, `active_enrollments`) needs the number of active enrollments
under the thing being deleted: active course enrollments in its courses plus active track
enrollments in its tracks. The same counts are reported back in the DELETE response's
`cascaded` map when `force=true` removes them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sandbox.shared.enums import EnrollmentStatus
from sandbox.shared.models import Course, Enrollment, TrackEnrollment, TrackInstructor


def course_ids_in_tracks(session: Session, track_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Ids of the courses that belong to any of `track_ids`."""
    if not track_ids:
        return []
    return list(session.scalars(select(Course.id).where(Course.track_id.in_(track_ids))))


def _enrollments(session: Session, course_ids: Sequence[uuid.UUID], active_only: bool) -> int:
    if not course_ids:
        return 0
    stmt = select(func.count()).select_from(Enrollment).where(Enrollment.course_id.in_(course_ids))
    if active_only:
        stmt = stmt.where(Enrollment.status == EnrollmentStatus.ACTIVE)
    return session.scalar(stmt) or 0


def _track_enrollments(session: Session, track_ids: Sequence[uuid.UUID], active_only: bool) -> int:
    if not track_ids:
        return 0
    stmt = select(func.count()).select_from(TrackEnrollment).where(TrackEnrollment.track_id.in_(track_ids))
    if active_only:
        stmt = stmt.where(TrackEnrollment.status == EnrollmentStatus.ACTIVE)
    return session.scalar(stmt) or 0


def active_enrollment_count(
    session: Session, track_ids: Sequence[uuid.UUID], course_ids: Sequence[uuid.UUID]
) -> int:
    """Active course enrollments in `course_ids` plus active track enrollments in `track_ids`."""
    return _enrollments(session, course_ids, True) + _track_enrollments(session, track_ids, True)


def cascade_counts(
    session: Session, track_ids: Sequence[uuid.UUID], course_ids: Sequence[uuid.UUID]
) -> dict[str, int]:
    """How many rows of each kind a delete of these tracks and courses removes."""
    instructors = 0
    if track_ids:
        instructors = (
            session.scalar(
                select(func.count())
                .select_from(TrackInstructor)
                .where(TrackInstructor.track_id.in_(track_ids))
            )
            or 0
        )
    return {
        "tracks": len(track_ids),
        "courses": len(course_ids),
        "enrollments": _enrollments(session, course_ids, False),
        "track_enrollments": _track_enrollments(session, track_ids, False),
        "instructor_assignments": instructors,
    }
