"""HTTP endpoints of tracks: create, list, read, edit, delete, publish, enroll, duplicate.

`/tracks/` keeps the real platform's trailing slash; `/tracks` (no slash) is served too, unlisted,
so a client that drops the slash is not redirected.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query

from sandbox.services.organization_management import track_enrollment, tracks
from sandbox.services.organization_management.track_access import get_visible_track
from sandbox.services.organization_management.track_schemas import (
    TrackCreate,
    TrackDuplicate,
    TrackEnrollRequest,
    TrackEnrollResponse,
    TrackResponse,
    TrackUpdate,
)
from sandbox.shared.auth import Principal, RequirePermissions
from sandbox.shared.context import ContextDep, SessionDep
from sandbox.shared.enums import DifficultyLevel, TrackStatus
from sandbox.shared.models import Project
from sandbox.shared.pagination import Page, PageDep, fetch_page
from sandbox.shared.permissions import Permission as P
from sandbox.shared.schemas import DeleteResult
from sandbox.shared.scoping import get_in_org

router = APIRouter(tags=["tracks"])

CreateTracks = Annotated[Principal, Depends(RequirePermissions(P.CREATE_TRACKS))]
DeleteTracks = Annotated[Principal, Depends(RequirePermissions(P.DELETE_TRACKS))]
AssignStudents = Annotated[Principal, Depends(RequirePermissions(P.ASSIGN_STUDENTS_TO_TRACKS))]
ViewTracks = Annotated[
    Principal, Depends(RequirePermissions(P.CREATE_TRACKS, P.TEACH_TRACKS, P.ACCESS_ASSIGNED_TRACKS))
]


@router.post("/tracks/", response_model=TrackResponse, status_code=201)
@router.post("/tracks", response_model=TrackResponse, status_code=201, include_in_schema=False)
def create_track(body: TrackCreate, principal: CreateTracks, session: SessionDep) -> TrackResponse:
    """Create a draft track in a project of the caller's organization."""
    return tracks.track_response(session, tracks.create_track(session, principal, body))


@router.get("/tracks/", response_model=Page[TrackResponse])
@router.get("/tracks", response_model=Page[TrackResponse], include_in_schema=False)
def list_tracks(
    principal: ViewTracks,
    session: SessionDep,
    page: PageDep,
    project_id: Annotated[uuid.UUID | None, Query()] = None,
    difficulty_level: Annotated[DifficultyLevel | None, Query()] = None,
    status: Annotated[TrackStatus | None, Query()] = None,
) -> Page[TrackResponse]:
    """Tracks the caller may see (admins: all; instructors: taught; students: enrolled)."""
    if project_id is not None:
        get_in_org(session, Project, project_id, principal, entity="Project", field="project_id")
    stmt = tracks.tracks_query(principal, project_id, difficulty_level, status)
    rows, total = fetch_page(session, stmt, page)
    items = [tracks.track_response(session, row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/tracks/{track_id}", response_model=TrackResponse)
def get_track(track_id: uuid.UUID, principal: ViewTracks, session: SessionDep) -> TrackResponse:
    """One track the caller may see."""
    return tracks.track_response(session, get_visible_track(session, principal, track_id))


@router.put("/tracks/{track_id}", response_model=TrackResponse)
def update_track(
    track_id: uuid.UUID, body: TrackUpdate, principal: CreateTracks, session: SessionDep
) -> TrackResponse:
    """Change a track's fields (only those sent)."""
    track = get_visible_track(session, principal, track_id)
    return tracks.track_response(session, tracks.update_track(session, principal, track, body))


@router.delete("/tracks/{track_id}", response_model=DeleteResult)
def delete_track(
    track_id: uuid.UUID,
    principal: DeleteTracks,
    session: SessionDep,
    force: Annotated[
        bool, Query(description="Also delete active enrollments, courses and assignments")
    ] = False,
) -> DeleteResult:
    """Delete a track; 409 while it has active enrollments unless force=true."""
    track = get_visible_track(session, principal, track_id)
    return tracks.delete_track(session, principal, track, force=force)


@router.post("/tracks/{track_id}/publish", response_model=TrackResponse)
def publish_track(track_id: uuid.UUID, principal: CreateTracks, session: SessionDep) -> TrackResponse:
    """Move a draft track to active, opening it for enrollment."""
    track = get_visible_track(session, principal, track_id)
    return tracks.track_response(session, tracks.publish_track(session, principal, track))


@router.post("/tracks/{track_id}/enroll", response_model=TrackEnrollResponse)
def enroll_students(
    track_id: uuid.UUID,
    body: TrackEnrollRequest,
    principal: AssignStudents,
    session: SessionDep,
    context: ContextDep,
) -> TrackEnrollResponse:
    """Enroll students by email; the response lists who was enrolled and why others were not."""
    track = get_visible_track(session, principal, track_id)
    return track_enrollment.enroll_students(session, context, principal, track, body)


@router.post("/tracks/{track_id}/duplicate", response_model=TrackResponse, status_code=201)
def duplicate_track(
    track_id: uuid.UUID,
    principal: CreateTracks,
    session: SessionDep,
    body: Annotated[TrackDuplicate | None, Body()] = None,
) -> TrackResponse:
    """Copy a track and its courses into a new draft track (the body is optional)."""
    source = get_visible_track(session, principal, track_id)
    copy = tracks.duplicate_track(session, principal, source, body or TrackDuplicate())
    return tracks.track_response(session, copy)
