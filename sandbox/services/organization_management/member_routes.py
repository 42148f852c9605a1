"""HTTP endpoints under /rbac: organization members and track instructors."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from sandbox.services.organization_management import members, track_instructors
from sandbox.services.organization_management.member_schemas import (
    InstructorAssign,
    MemberInvite,
    MemberInviteResponse,
    MemberResponse,
    TrackInstructorResponse,
)
from sandbox.services.organization_management.track_access import get_visible_track
from sandbox.shared.auth import Principal, RequirePermissions
from sandbox.shared.context import ContextDep, SessionDep
from sandbox.shared.enums import MemberRole, MembershipStatus
from sandbox.shared.errors import not_found
from sandbox.shared.models import Membership, User
from sandbox.shared.pagination import Page, PageDep, fetch_page
from sandbox.shared.permissions import Permission as P
from sandbox.shared.schemas import DeleteResult
from sandbox.shared.scoping import get_organization

router = APIRouter(prefix="/rbac", tags=["members"])

AddMembers = Annotated[
    Principal,
    Depends(
        RequirePermissions(P.ADD_ORGANIZATION_ADMINS, P.ADD_INSTRUCTORS_TO_ORG, P.ADD_STUDENTS_TO_PROJECT)
    ),
]
RemoveMembers = Annotated[
    Principal,
    Depends(
        RequirePermissions(
            P.REMOVE_ORGANIZATION_ADMINS, P.REMOVE_INSTRUCTORS_FROM_ORG, P.REMOVE_STUDENTS_FROM_PROJECT
        )
    ),
]
ViewInstructors = Annotated[Principal, Depends(RequirePermissions(P.VIEW_INSTRUCTORS))]
AssignInstructors = Annotated[Principal, Depends(RequirePermissions(P.ASSIGN_INSTRUCTORS_TO_TRACKS))]


@router.post("/organizations/{org_id}/members", response_model=MemberInviteResponse, status_code=201)
def invite_member(
    org_id: uuid.UUID,
    body: MemberInvite,
    principal: AddMembers,
    session: SessionDep,
    context: ContextDep,
) -> MemberInviteResponse:
    """Invite an organization admin, instructor or student; new accounts stay pending until verified."""
    organization = get_organization(session, org_id, principal)
    view, token = members.invite_member(session, context, principal, organization, body)
    return MemberInviteResponse(**view.model_dump(), verification_token=token)


@router.get("/organizations/{org_id}/members", response_model=Page[MemberResponse])
def list_members(
    org_id: uuid.UUID,
    principal: ViewInstructors,
    session: SessionDep,
    page: PageDep,
    role_type: Annotated[MemberRole | None, Query()] = None,
    status: Annotated[MembershipStatus | None, Query()] = None,
) -> Page[MemberResponse]:
    """The organization's members, optionally of one role or status."""
    organization = get_organization(session, org_id, principal)
    rows, total = fetch_page(session, members.members_query(organization.id, role_type, status), page)
    items = [members.member_response(session, row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.delete("/organizations/{org_id}/members/{membership_id}", response_model=DeleteResult)
def remove_member(
    org_id: uuid.UUID, membership_id: uuid.UUID, principal: RemoveMembers, session: SessionDep
) -> DeleteResult:
    """Remove a member: the account is deactivated, assignments dropped, enrollments cancelled."""
    organization = get_organization(session, org_id, principal)
    membership = session.get(Membership, membership_id)
    if membership is None or membership.organization_id != organization.id:
        raise not_found("Membership")
    return members.remove_member(session, principal, membership)


@router.post("/tracks/{track_id}/instructors", response_model=TrackInstructorResponse, status_code=201)
def assign_instructor(
    track_id: uuid.UUID, body: InstructorAssign, principal: AssignInstructors, session: SessionDep
) -> TrackInstructorResponse:
    """Assign a verified instructor of the organization to teach the track."""
    track = get_visible_track(session, principal, track_id)
    return track_instructors.assign_instructor(session, principal, track, body)


@router.get("/tracks/{track_id}/instructors", response_model=Page[TrackInstructorResponse])
def list_track_instructors(
    track_id: uuid.UUID, principal: ViewInstructors, session: SessionDep, page: PageDep
) -> Page[TrackInstructorResponse]:
    """Who teaches the track."""
    track = get_visible_track(session, principal, track_id)
    rows, total = fetch_page(session, track_instructors.track_instructors_query(track), page)
    items = []
    for assignment in rows:
        user = session.get(User, assignment.user_id)
        if user is not None:
            items.append(track_instructors.instructor_response(assignment, user))
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)
