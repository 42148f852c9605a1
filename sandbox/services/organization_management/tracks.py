"""Tracks: learning paths inside a project. Rules:

- creating, editing, publishing and duplicating need create_tracks; deleting needs delete_tracks;
  reading follows `track_access` (admins: all, instructors: taught, students: enrolled);
- a track belongs to an existing project of the caller's organization (404 on `project_id`
  otherwise) that is not completed or archived (409 `project_closed`);
- track names are unique within their project, case-insensitively (409 `track_name_taken`);
  the same name may be reused in another project;
- difficulty_level is beginner, intermediate or advanced, nothing else (422); duration_weeks 1-52,
  max_students 1-1000; max_students may not drop below the active enrollments
  (409 `max_students_below_enrolled`);
- a track is created as draft; publishing moves draft -> active (409 `invalid_status_transition`
  otherwise); only active tracks accept enrollments;
- deleting a track with active enrollments answers 409 `active_enrollments` unless `force=true`,
  which deletes its courses, instructor assignments and enrollments too;
- duplicating copies the track's fields and its courses (as unpublished drafts) into a new draft
  track, in the same or another project of the same organization; instructors and enrollments
  are not copied.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from sandbox.services.course_management.enrollment_queries import (
    active_enrollment_count,
    cascade_counts,
    course_ids_in_tracks,
)
from sandbox.services.organization_management.track_access import visible_tracks_condition
from sandbox.services.organization_management.track_schemas import (
    TrackCreate,
    TrackDuplicate,
    TrackResponse,
    TrackUpdate,
)
from sandbox.shared.activity import record_activity
from sandbox.shared.auth import Principal
from sandbox.shared.enums import DifficultyLevel, EnrollmentStatus, ProjectStatus, TrackStatus
from sandbox.shared.errors import ApiError, conflict, not_found
from sandbox.shared.models import Course, Project, Track, TrackEnrollment, TrackInstructor, utcnow
from sandbox.shared.persistence import guarded_write, raise_if_conflict
from sandbox.shared.schemas import DeleteResult
from sandbox.shared.scoping import get_in_org
from sandbox.shared.text import clean_name, name_key

CLOSED_PROJECT_STATUSES = frozenset({ProjectStatus.COMPLETED, ProjectStatus.ARCHIVED})
_COPIED_FIELDS = (
    "description",
    "difficulty_level",
    "duration_weeks",
    "max_students",
    "target_audience",
    "prerequisites",
    "learning_objectives",
)


def find_track_conflict(
    session: Session, project_id: uuid.UUID, key: str, exclude: uuid.UUID | None = None
) -> ApiError | None:
    """The name-uniqueness rule a track would break in `project_id`, if any."""
    stmt = select(Track.name).where(Track.project_id == project_id, Track.name_key == key)
    if exclude is not None:
        stmt = stmt.where(Track.id != exclude)
    existing = session.scalar(stmt)
    if existing is None:
        return None
    return conflict(
        f"This project already has a track named '{existing}'", rule="track_name_taken", field="name"
    )


def _open_project(session: Session, principal: Principal, project_id: uuid.UUID) -> Project:
    project = get_in_org(session, Project, project_id, principal, entity="Project", field="project_id")
    if project.status in CLOSED_PROJECT_STATUSES:
        raise conflict(
            f"Project '{project.name}' is {project.status}; "
            "tracks can only be added to draft or active projects",
            rule="project_closed",
            field="project_id",
        )
    return project


def _log(session: Session, principal: Principal, track: Track, action: str, summary: str) -> None:
    record_activity(
        session,
        organization_id=track.organization_id,
        actor_id=principal.user_id,
        action=f"track.{action}",
        entity_type="track",
        entity_id=track.id,
        summary=summary,
    )


def create_track(session: Session, principal: Principal, body: TrackCreate) -> Track:
    """Create a draft track in an open project of the caller's organization."""
    project = _open_project(session, principal, body.project_id)
    name = clean_name(body.name)
    key = name_key(name)

    def find() -> ApiError | None:
        return find_track_conflict(session, project.id, key)

    raise_if_conflict(find)
    with guarded_write(session, find):
        values = body.model_dump(include=set(_COPIED_FIELDS))
        track = Track(
            organization_id=project.organization_id,
            project_id=project.id,
            name=name,
            name_key=key,
            status=TrackStatus.DRAFT,
            created_by_id=principal.user_id,
            **values,
        )
        session.add(track)
        session.flush()
        _log(
            session,
            principal,
            track,
            "created",
            f"Track '{name}' ({track.difficulty_level}) created in '{project.name}'",
        )
    return track


def update_track(session: Session, principal: Principal, track: Track, body: TrackUpdate) -> Track:
    """Change the fields sent, keeping names unique and capacity above current enrollment."""
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    key: str | None = None
    if "name" in changes:
        changes["name"] = clean_name(changes["name"])
        key = name_key(changes["name"])

    def find() -> ApiError | None:
        return find_track_conflict(session, track.project_id, key, exclude=track.id) if key else None

    raise_if_conflict(find)
    with guarded_write(session, find):
        if "max_students" in changes:
            enrolled = active_track_enrollments(session, track.id)
            if changes["max_students"] < enrolled:
                raise conflict(
                    f"max_students cannot be below the {enrolled} students already enrolled",
                    rule="max_students_below_enrolled",
                    field="max_students",
                )
        for field, value in changes.items():
            setattr(track, field, value.value if isinstance(value, DifficultyLevel) else value)
        if key:
            track.name_key = key
        _log(
            session,
            principal,
            track,
            "updated",
            f"Track '{track.name}' updated: {', '.join(sorted(changes))}",
        )
    return track


def publish_track(session: Session, principal: Principal, track: Track) -> Track:
    """draft -> active: the track opens for enrollment."""
    if track.status != TrackStatus.DRAFT:
        raise conflict(
            f"Only a draft track can be published; this one is {track.status}",
            rule="invalid_status_transition",
            field="status",
        )
    track.status = TrackStatus.ACTIVE
    track.published_at = utcnow()
    _log(session, principal, track, "published", f"Track '{track.name}' published")
    session.commit()
    return track


def delete_track(session: Session, principal: Principal, track: Track, *, force: bool) -> DeleteResult:
    """Delete the track; refused while it has active enrollments unless `force`."""
    course_ids = course_ids_in_tracks(session, [track.id])
    active = active_enrollment_count(session, [track.id], course_ids)
    if active and not force:
        raise conflict(
            f"Track has {active} active enrollments; "
            "pass force=true to delete it with its courses and enrollments",
            rule="active_enrollments",
            field="force",
        )
    cascaded = cascade_counts(session, [track.id], course_ids)
    cascaded.pop("tracks")
    _log(session, principal, track, "deleted", f"Track '{track.name}' deleted")
    session.execute(delete(Track).where(Track.id == track.id))
    session.commit()
    return DeleteResult(id=track.id, cascaded=cascaded)


def _copy_name(session: Session, project_id: uuid.UUID, name: str) -> str:
    for n in range(1, 100):
        candidate = f"{name} (Copy)" if n == 1 else f"{name} (Copy {n})"
        if find_track_conflict(session, project_id, name_key(candidate)) is None:
            return candidate
    raise conflict(
        "Too many copies of this track in the project; give a name", rule="track_name_taken", field="name"
    )


def duplicate_track(session: Session, principal: Principal, source: Track, body: TrackDuplicate) -> Track:
    """Copy a track (and its courses, unpublished) into a new draft track."""
    project_id = body.project_id or source.project_id
    project = _open_project(session, principal, project_id)
    if project.organization_id != source.organization_id:
        raise not_found("Project", field="project_id")
    name = clean_name(body.name) if body.name else _copy_name(session, project.id, source.name)
    key = name_key(name)

    def find() -> ApiError | None:
        return find_track_conflict(session, project.id, key)

    raise_if_conflict(find)
    with guarded_write(session, find):
        copy = Track(
            organization_id=source.organization_id,
            project_id=project.id,
            name=name,
            name_key=key,
            status=TrackStatus.DRAFT,
            created_by_id=principal.user_id,
            **{field: getattr(source, field) for field in _COPIED_FIELDS},
        )
        session.add(copy)
        session.flush()
        for course in session.scalars(select(Course).where(Course.track_id == source.id)):
            session.add(
                Course(
                    organization_id=course.organization_id,
                    track_id=copy.id,
                    instructor_id=course.instructor_id,
                    title=course.title,
                    description=course.description,
                    difficulty_level=course.difficulty_level,
                    category=course.category,
                    estimated_duration=course.estimated_duration,
                    duration_unit=course.duration_unit,
                    price=course.price,
                    tags=list(course.tags),
                    is_published=False,
                    created_by_id=principal.user_id,
                )
            )
        _log(session, principal, copy, "duplicated", f"Track '{copy.name}' duplicated from '{source.name}'")
    return copy


def active_track_enrollments(session: Session, track_id: uuid.UUID) -> int:
    """Students actively enrolled in the track (what max_students limits)."""
    stmt = (
        select(func.count())
        .select_from(TrackEnrollment)
        .where(TrackEnrollment.track_id == track_id, TrackEnrollment.status == EnrollmentStatus.ACTIVE)
    )
    return session.scalar(stmt) or 0


def tracks_query(
    principal: Principal,
    project_id: uuid.UUID | None,
    difficulty_level: DifficultyLevel | None,
    status: TrackStatus | None,
) -> Select[Track]:
    """Tracks the caller may see, filtered, by name."""
    stmt = select(Track).where(visible_tracks_condition(principal))
    if project_id is not None:
        stmt = stmt.where(Track.project_id == project_id)
    if difficulty_level is not None:
        stmt = stmt.where(Track.difficulty_level == difficulty_level)
    if status is not None:
        stmt = stmt.where(Track.status == status)
    return stmt.order_by(Track.name_key, Track.id)


def track_response(session: Session, track: Track) -> TrackResponse:
    """The API view of a track with its counts."""

    def count(stmt: Select[int]) -> int:
        return session.scalar(stmt) or 0

    instructors = count(
        select(func.count()).select_from(TrackInstructor).where(TrackInstructor.track_id == track.id)
    )
    courses = count(select(func.count()).select_from(Course).where(Course.track_id == track.id))
    fields = {name: getattr(track, name) for name in TrackResponse.model_fields if hasattr(track, name)}
    return TrackResponse.model_validate(
        {
            **fields,
            "enrollment_count": active_track_enrollments(session, track.id),
            "instructor_count": instructors,
            "course_count": courses,
        }
    )
