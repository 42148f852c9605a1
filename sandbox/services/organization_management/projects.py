"""Projects: the training programs of an organization (e.g. "Data Science Foundations"). Rules:

- creating needs create_projects; deleting needs delete_projects (organization admins, site admins);
  instructors (teach_tracks) may read projects; students may not;
- an organization holds at most `organizations.max_projects_per_org` projects (platform.yaml):
  409 `organization_project_limit`;
- names are unique within the organization, case-insensitively (409 `project_name_taken`), and so
  are slugs (409 `project_slug_taken`); the slug is derived from the name when not given;
- description 10-2000 characters, duration_weeks 1-52 (422 from the schema); end_date may not be
  before start_date (422 `end_date_before_start_date`);
- a project is created as draft; publishing moves draft -> active, any other status answers
  409 `invalid_status_transition`;
- a project with active enrollments (in its tracks or their courses) cannot be deleted:
  409 `active_enrollments`, unless `force=true`, which deletes it with its tracks, their courses,
  instructor assignments and enrollments (the response's `cascaded` says how many of each).
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from sandbox.services.course_management.enrollment_queries import (
    active_enrollment_count,
    cascade_counts,
    course_ids_in_tracks,
)
from sandbox.services.organization_management.project_schemas import ProjectCreate, ProjectResponse
from sandbox.shared.activity import record_activity
from sandbox.shared.auth import Principal
from sandbox.shared.context import SandboxContext
from sandbox.shared.enums import ProjectStatus
from sandbox.shared.errors import ApiError, conflict, unprocessable
from sandbox.shared.models import Organization, Project, Track, utcnow
from sandbox.shared.persistence import guarded_write, raise_if_conflict
from sandbox.shared.schemas import DeleteResult
from sandbox.shared.text import clean_name, name_key, slugify


def find_project_conflict(
    session: Session, organization_id: uuid.UUID, key: str | None, slug: str | None
) -> ApiError | None:
    """The uniqueness rule a new project would break, if any.

    One query reads both clashes, so the answer comes from one consistent view of the table even
    while another request is committing the same name (the name wins over the slug it derives).
    """
    clashes = [Project.name_key == key] if key is not None else []
    clashes += [Project.slug == slug] if slug is not None else []
    if not clashes:
        return None
    rows = session.execute(
        select(Project.name, Project.name_key, Project.slug).where(
            Project.organization_id == organization_id, or_(*clashes)
        )
    ).all()
    for name, existing_key, _slug in rows:
        if existing_key == key:
            return conflict(
                f"This organization already has a project named '{name}'",
                rule="project_name_taken",
                field="name",
            )
    if rows:
        return conflict(
            f"The project slug '{slug}' is already used in this organization",
            rule="project_slug_taken",
            field="slug",
        )
    return None


def create_project(
    session: Session,
    context: SandboxContext,
    principal: Principal,
    organization: Organization,
    body: ProjectCreate,
) -> Project:
    """Create a draft project after checking the limit, the dates and uniqueness."""
    limit = context.config.organizations.max_projects_per_org
    count = session.scalar(
        select(func.count()).select_from(Project).where(Project.organization_id == organization.id)
    )
    if (count or 0) >= limit:
        raise conflict(
            f"An organization may hold at most {limit} projects", rule="organization_project_limit"
        )
    if body.start_date and body.end_date and body.end_date < body.start_date:
        raise unprocessable(
            "end_date is before start_date", rule="end_date_before_start_date", field="end_date"
        )
    name = clean_name(body.name)
    slug = body.slug or slugify(name)
    if not slug:
        raise unprocessable(
            "Give a slug: none can be derived from this name", rule="slug_required", field="slug"
        )
    key = name_key(name)

    def find() -> ApiError | None:
        return find_project_conflict(session, organization.id, key, slug)

    raise_if_conflict(find)
    with guarded_write(session, find):
        project = Project(
            organization_id=organization.id,
            name=name,
            name_key=key,
            slug=slug,
            description=body.description,
            duration_weeks=body.duration_weeks,
            max_participants=body.max_participants,
            start_date=body.start_date,
            end_date=body.end_date,
            target_roles=list(body.target_roles),
            status=ProjectStatus.DRAFT,
            created_by_id=principal.user_id,
        )
        session.add(project)
        session.flush()
        record_activity(
            session,
            organization_id=organization.id,
            actor_id=principal.user_id,
            action="project.created",
            entity_type="project",
            entity_id=project.id,
            summary=f"Project '{name}' created",
        )
    return project


def publish_project(session: Session, principal: Principal, project: Project) -> Project:
    """draft -> active."""
    if project.status != ProjectStatus.DRAFT:
        raise conflict(
            f"Only a draft project can be published; this one is {project.status}",
            rule="invalid_status_transition",
            field="status",
        )
    project.status = ProjectStatus.ACTIVE
    project.published_at = utcnow()
    record_activity(
        session,
        organization_id=project.organization_id,
        actor_id=principal.user_id,
        action="project.published",
        entity_type="project",
        entity_id=project.id,
        summary=f"Project '{project.name}' published",
    )
    session.commit()
    return project


def delete_project(session: Session, principal: Principal, project: Project, *, force: bool) -> DeleteResult:
    """Delete the project; refused while it has active enrollments unless `force`."""
    track_ids = list(session.scalars(select(Track.id).where(Track.project_id == project.id)))
    course_ids = course_ids_in_tracks(session, track_ids)
    active = active_enrollment_count(session, track_ids, course_ids)
    if active and not force:
        raise conflict(
            f"Project has {active} active enrollments; pass force=true to delete it with its "
            "tracks, courses and enrollments",
            rule="active_enrollments",
            field="force",
        )
    cascaded = cascade_counts(session, track_ids, course_ids)
    session.execute(delete(Project).where(Project.id == project.id))
    record_activity(
        session,
        organization_id=project.organization_id,
        actor_id=principal.user_id,
        action="project.deleted",
        entity_type="project",
        entity_id=project.id,
        summary=f"Project '{project.name}' deleted" + (" (forced)" if force and active else ""),
    )
    session.commit()
    return DeleteResult(id=project.id, cascaded=cascaded)


def projects_query(organization_id: uuid.UUID, status: ProjectStatus | None) -> Select[Project]:
    """The organization's projects by name, optionally of one status."""
    stmt = select(Project).where(Project.organization_id == organization_id)
    if status is not None:
        stmt = stmt.where(Project.status == status)
    return stmt.order_by(Project.name_key)


def project_response(session: Session, project: Project) -> ProjectResponse:
    """The API view of a project, with its track count."""
    tracks = session.scalar(select(func.count()).select_from(Track).where(Track.project_id == project.id))
    return ProjectResponse.model_validate(
        {
            **{
                name: getattr(project, name) for name in ProjectResponse.model_fields if name != "track_count"
            },
            "track_count": tracks or 0,
        }
    )
