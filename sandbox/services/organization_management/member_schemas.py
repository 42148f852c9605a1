"""Request and response bodies of the member (RBAC) endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from sandbox.shared.enums import MemberRole, MembershipStatus
from sandbox.shared.schemas import Email, RequestModel, ResponseModel


class MemberInvite(RequestModel):
    """Body of POST /rbac/organizations/{org_id}/members."""

    user_email: Email
    role_type: MemberRole = MemberRole.INSTRUCTOR
    project_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    full_name: str | None = Field(None, min_length=1, max_length=200)


class MemberResponse(ResponseModel):
    """A membership: who, which role, which status, which projects and tracks."""

    membership_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    full_name: str
    role_type: MemberRole
    status: MembershipStatus
    email_verified: bool
    project_ids: list[uuid.UUID]
    track_ids: list[uuid.UUID] = Field(description="Tracks taught (instructors) or enrolled in (students)")
    permissions: list[str]
    invited_at: datetime
    accepted_at: datetime | None


class MemberInviteResponse(MemberResponse):
    """The new membership, and the email-verification token the real platform would email."""

    verification_token: str | None = Field(
        description="Set when the account must verify its email; pass it to POST /auth/verify-email"
    )


class InstructorAssign(RequestModel):
    """Body of POST /rbac/tracks/{track_id}/instructors: name the instructor by id or by email."""

    instructor_id: uuid.UUID | None = None
    instructor_email: Email | None = None


class TrackInstructorResponse(ResponseModel):
    """An instructor's assignment to a track."""

    assignment_id: uuid.UUID
    track_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    full_name: str
    assigned_at: datetime
