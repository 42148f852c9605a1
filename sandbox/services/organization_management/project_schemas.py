"""Request and response bodies of the project endpoints."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import Field

from sandbox.shared.enums import ProjectStatus
from sandbox.shared.schemas import Name, RequestModel, ResponseModel, ShortList, Slug


class ProjectCreate(RequestModel):
    """Body of POST /organizations/{org_id}/projects."""

    name: Name
    slug: Slug | None = Field(None, description="Lower-case words joined by hyphens; derived from the name")
    description: str = Field(min_length=10, max_length=2000)
    duration_weeks: int | None = Field(None, ge=1, le=52)
    max_participants: int | None = Field(None, ge=1, le=10000)
    start_date: date | None = None
    end_date: date | None = None
    target_roles: ShortList = Field(default_factory=list, description="e.g. ['Data Analyst']")


class ProjectResponse(ResponseModel):
    """A project, with how many tracks it holds."""

    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    slug: str
    description: str
    duration_weeks: int | None
    max_participants: int | None
    start_date: date | None
    end_date: date | None
    target_roles: list[str]
    status: ProjectStatus
    track_count: int
    created_by_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
