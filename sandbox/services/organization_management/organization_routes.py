"""HTTP endpoints of organizations: read, update, activity log; create, list and delete for site admins."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from sandbox.services.organization_management import organizations
from sandbox.services.organization_management.organization_schemas import (
    ActivityResponse,
    OrganizationCreate,
    OrganizationResponse,
    OrganizationUpdate,
)
from sandbox.shared.auth import AnyMember, Principal, RequirePermissions
from sandbox.shared.context import SessionDep
from sandbox.shared.pagination import Page, PageDep, fetch_page
from sandbox.shared.permissions import Permission as P
from sandbox.shared.schemas import DeleteResult
from sandbox.shared.scoping import get_organization

router = APIRouter(tags=["organizations"])

ViewAllOrganizations = Annotated[Principal, Depends(RequirePermissions(P.VIEW_ALL_ORGANIZATIONS))]
ManageSite = Annotated[Principal, Depends(RequirePermissions(P.MANAGE_SITE_SETTINGS))]
ManageOrganization = Annotated[Principal, Depends(RequirePermissions(P.MANAGE_ORGANIZATION))]
DeleteAnyOrganization = Annotated[Principal, Depends(RequirePermissions(P.DELETE_ANY_ORGANIZATION))]


@router.get("/organizations", response_model=Page[OrganizationResponse])
def list_organizations(
    principal: ViewAllOrganizations, session: SessionDep, page: PageDep
) -> Page[OrganizationResponse]:
    """Every organization on the platform (site admins)."""
    rows, total = fetch_page(session, organizations.organizations_query(), page)
    items = [OrganizationResponse.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/organizations", response_model=OrganizationResponse, status_code=201)
def create_organization(
    body: OrganizationCreate, principal: ManageSite, session: SessionDep
) -> OrganizationResponse:
    """Create an organization (site admins)."""
    return OrganizationResponse.model_validate(organizations.create_organization(session, principal, body))


@router.get("/organizations/{org_id}", response_model=OrganizationResponse)
def get_organization_by_id(
    org_id: uuid.UUID, principal: AnyMember, session: SessionDep
) -> OrganizationResponse:
    """The caller's organization (any member; site admins: any organization)."""
    return OrganizationResponse.model_validate(get_organization(session, org_id, principal))


@router.put("/organizations/{org_id}", response_model=OrganizationResponse)
def update_organization(
    org_id: uuid.UUID, body: OrganizationUpdate, principal: ManageOrganization, session: SessionDep
) -> OrganizationResponse:
    """Update name, description, contact email or website."""
    organization = get_organization(session, org_id, principal)
    return OrganizationResponse.model_validate(
        organizations.update_organization(session, principal, organization, body)
    )


@router.delete("/organizations/{org_id}", response_model=DeleteResult)
def delete_organization(
    org_id: uuid.UUID, principal: DeleteAnyOrganization, session: SessionDep
) -> DeleteResult:
    """Delete an organization and everything in it (site admins)."""
    organization = get_organization(session, org_id, principal)
    return organizations.delete_organization(session, principal, organization)


@router.get("/organizations/{org_id}/activity", response_model=Page[ActivityResponse])
def organization_activity(
    org_id: uuid.UUID,
    principal: ManageOrganization,
    session: SessionDep,
    page: PageDep,
    entity_type: Annotated[str | None, Query(max_length=40, description="e.g. project, track")] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[ActivityResponse]:
    """The organization's activity log, newest first."""
    organization = get_organization(session, org_id, principal)
    stmt = organizations.activity_query(organization.id, entity_type, entity_id)
    rows, total = fetch_page(session, stmt, page)
    items = [ActivityResponse.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)
