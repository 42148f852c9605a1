"""Which tracks a caller can see, by role.

- organization admins (create_tracks) and site admins: every track of the organization(s) they reach;
- instructors (teach_tracks): only the tracks they are assigned to teach;
- students (access_assigned_tracks): only the tracks they are enrolled in.
A track outside that set answers 404, as if it did not exist. Courses use `teaches_track` for the
rule that an instructor may only put a course in a track they teach.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Select, and_, select, true
from sqlalchemy.orm import Session

from sandbox.shared.auth import Principal
from sandbox.shared.errors import not_found
from sandbox.shared.models import Track, TrackEnrollment, TrackInstructor
from sandbox.shared.permissions import Permission


def teaches_track(session: Session, user_id: uuid.UUID, track_id: uuid.UUID) -> bool:
    """True when the user is assigned to teach the track."""
    stmt = select(TrackInstructor.id).where(
        TrackInstructor.user_id == user_id, TrackInstructor.track_id == track_id
    )
    return session.scalar(stmt) is not None


def taught_track_ids(user_id: uuid.UUID) -> Select[uuid.UUID]:
    """Subquery: ids of the tracks the user teaches."""
    return select(TrackInstructor.track_id).where(TrackInstructor.user_id == user_id)


def visible_tracks_condition(principal: Principal) -> ColumnElement[bool]:
    """A WHERE condition on Track limiting rows to what `principal` may see."""
    org = true() if principal.is_site_admin else Track.organization_id == principal.organization_id
    if principal.has(Permission.CREATE_TRACKS):
        return org
    if principal.has(Permission.TEACH_TRACKS):
        return and_(org, Track.id.in_(taught_track_ids(principal.user_id)))
    enrolled = select(TrackEnrollment.track_id).where(TrackEnrollment.student_id == principal.user_id)
    return and_(org, Track.id.in_(enrolled))


def get_visible_track(
    session: Session, principal: Principal, track_id: uuid.UUID, *, field: str | None = None
) -> Track:
    """The track if the caller may see it, else 404."""
    track = session.scalar(select(Track).where(Track.id == track_id, visible_tracks_condition(principal)))
    if track is None:
        raise not_found("Track", field=field)
    return track
