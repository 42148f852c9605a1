"""Request and response bodies of the organization endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from sandbox.shared.schemas import Email, Name, RequestModel, ResponseModel, Slug


class OrganizationCreate(RequestModel):
    """Body of POST /organizations (site admins only)."""

    name: Name
    slug: Slug | None = Field(None, description="Derived from the name when omitted")
    description: str = Field("", max_length=2000)
    contact_email: Email | None = None
    website: str | None = Field(None, max_length=500)


class OrganizationUpdate(RequestModel):
    """Body of PUT /organizations/{org_id}: only the fields sent are changed."""

    name: Name | None = None
    description: str | None = Field(None, max_length=2000)
    contact_email: Email | None = None
    website: str | None = Field(None, max_length=500)


class OrganizationResponse(ResponseModel):
    """An organization."""

    id: uuid.UUID
    name: str
    slug: str
    description: str
    contact_email: str | None
    website: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


class ActivityResponse(ResponseModel):
    """One event of the activity log."""

    id: uuid.UUID
    organization_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    action: str
    entity_type: str
    entity_id: str
    summary: str
    created_at: datetime
