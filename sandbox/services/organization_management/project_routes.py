"""HTTP endpoints of projects: create and list under an organization, read, publish, delete."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from sandbox.services.organization_management import projects
from sandbox.services.organization_management.project_schemas import ProjectCreate, ProjectResponse
from sandbox.shared.auth import Principal, RequirePermissions
from sandbox.shared.context import ContextDep, SessionDep
from sandbox.shared.enums import ProjectStatus
from sandbox.shared.errors import not_found
from sandbox.shared.models import Project
from sandbox.shared.pagination import Page, PageDep, fetch_page
from sandbox.shared.permissions import Permission as P
from sandbox.shared.schemas import DeleteResult
from sandbox.shared.scoping import get_in_org, get_organization

router = APIRouter(tags=["projects"])

CreateProjects = Annotated[Principal, Depends(RequirePermissions(P.CREATE_PROJECTS))]
DeleteProjects = Annotated[Principal, Depends(RequirePermissions(P.DELETE_PROJECTS))]
ViewProjects = Annotated[Principal, Depends(RequirePermissions(P.CREATE_PROJECTS, P.TEACH_TRACKS))]


@router.post("/organizations/{org_id}/projects", response_model=ProjectResponse, status_code=201)
def create_project(
    org_id: uuid.UUID,
    body: ProjectCreate,
    principal: CreateProjects,
    session: SessionDep,
    context: ContextDep,
) -> ProjectResponse:
    """Create a draft project in the organization."""
    organization = get_organization(session, org_id, principal)
    project = projects.create_project(session, context, principal, organization, body)
    return projects.project_response(session, project)


@router.get("/organizations/{org_id}/projects", response_model=Page[ProjectResponse])
def list_projects(
    org_id: uuid.UUID,
    principal: ViewProjects,
    session: SessionDep,
    page: PageDep,
    status: Annotated[ProjectStatus | None, Query(description="Only projects of this status")] = None,
) -> Page[ProjectResponse]:
    """The organization's projects, by name."""
    organization = get_organization(session, org_id, principal)
    rows, total = fetch_page(session, projects.projects_query(organization.id, status), page)
    items = [projects.project_response(session, row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/projects/{project_id}", response_model=ProjectResponse)
def get_project(project_id: uuid.UUID, principal: ViewProjects, session: SessionDep) -> ProjectResponse:
    """One project of the caller's organization."""
    project = get_in_org(session, Project, project_id, principal, entity="Project")
    return projects.project_response(session, project)


@router.post("/projects/{project_id}/publish", response_model=ProjectResponse)
def publish_project(project_id: uuid.UUID, principal: CreateProjects, session: SessionDep) -> ProjectResponse:
    """Move a draft project to active."""
    project = get_in_org(session, Project, project_id, principal, entity="Project")
    return projects.project_response(session, projects.publish_project(session, principal, project))


@router.delete("/organizations/{org_id}/projects/{project_id}", response_model=DeleteResult)
def delete_project(
    org_id: uuid.UUID,
    project_id: uuid.UUID,
    principal: DeleteProjects,
    session: SessionDep,
    force: Annotated[bool, Query(description="Also delete active enrollments and everything below")] = False,
) -> DeleteResult:
    """Delete a project; 409 while it has active enrollments unless force=true."""
    organization = get_organization(session, org_id, principal)
    project = get_in_org(session, Project, project_id, principal, entity="Project")
    if project.organization_id != organization.id:
        raise not_found("Project")
    return projects.delete_project(session, principal, project, force=force)
