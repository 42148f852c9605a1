"""Organizations: the tenants. Rules:

- only site admins create (manage_site_settings), list all (view_all_organizations) or delete
  (delete_any_organization) organizations; an organization admin manages their own
  (manage_organization) and every member can read their own;
- organization names and slugs are unique across the platform (409 `organization_name_taken`,
  `organization_slug_taken`); the slug is derived from the name when not given and never changes;
- deleting an organization removes everything in it: its members' accounts, projects, tracks,
  courses, enrollments and activity log.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from sandbox.services.organization_management.organization_schemas import (
    OrganizationCreate,
    OrganizationUpdate,
)
from sandbox.shared.activity import record_activity
from sandbox.shared.auth import Principal
from sandbox.shared.errors import ApiError, conflict, unprocessable
from sandbox.shared.models import (
    ActivityEvent,
    Course,
    Membership,
    Organization,
    Project,
    Track,
    User,
)
from sandbox.shared.persistence import guarded_write, raise_if_conflict
from sandbox.shared.schemas import DeleteResult
from sandbox.shared.text import clean_name, slugify


def _find_conflict(
    session: Session, name: str | None, slug: str | None, exclude: uuid.UUID | None = None
) -> ApiError | None:
    """Name (case-insensitive) or slug clashes, read in one query for one consistent answer."""
    clashes = [func.lower(Organization.name) == name.lower()] if name else []
    clashes += [Organization.slug == slug] if slug else []
    if not clashes:
        return None
    stmt = select(Organization.name, Organization.slug).where(or_(*clashes))
    if exclude is not None:
        stmt = stmt.where(Organization.id != exclude)
    rows = session.execute(stmt).all()
    if name and any(existing.lower() == name.lower() for existing, _ in rows):
        return conflict(
            f"An organization named '{name}' already exists", rule="organization_name_taken", field="name"
        )
    if rows:
        return conflict(f"The slug '{slug}' is already used", rule="organization_slug_taken", field="slug")
    return None


def create_organization(session: Session, principal: Principal, body: OrganizationCreate) -> Organization:
    """Create an empty organization; add its first admin with POST /rbac/organizations/{id}/members."""
    name = clean_name(body.name)
    slug = body.slug or slugify(name)
    if not slug:
        raise unprocessable(
            "Give a slug: none can be derived from this name", rule="slug_required", field="slug"
        )

    def find() -> ApiError | None:
        return _find_conflict(session, name, slug)

    raise_if_conflict(find)
    with guarded_write(session, find):
        organization = Organization(
            name=name,
            slug=slug,
            description=body.description,
            contact_email=body.contact_email.lower() if body.contact_email else None,
            website=body.website,
        )
        session.add(organization)
        session.flush()
        record_activity(
            session,
            organization_id=organization.id,
            actor_id=principal.user_id,
            action="organization.created",
            entity_type="organization",
            entity_id=organization.id,
            summary=f"Organization '{name}' created",
        )
    return organization


def update_organization(
    session: Session, principal: Principal, organization: Organization, body: OrganizationUpdate
) -> Organization:
    """Change the fields sent; a new name must still be unique."""
    changes = body.model_dump(exclude_unset=True)
    name = clean_name(changes["name"]) if changes.get("name") else None

    def find() -> ApiError | None:
        return _find_conflict(session, name, None, exclude=organization.id)

    raise_if_conflict(find)
    with guarded_write(session, find):
        if name:
            organization.name = name
        for field in ("description", "website"):
            if field in changes and changes[field] is not None:
                setattr(organization, field, changes[field])
        if "contact_email" in changes:
            organization.contact_email = (
                changes["contact_email"].lower() if changes["contact_email"] else None
            )
        record_activity(
            session,
            organization_id=organization.id,
            actor_id=principal.user_id,
            action="organization.updated",
            entity_type="organization",
            entity_id=organization.id,
            summary=f"Organization updated: {', '.join(sorted(changes)) or 'no fields'}",
        )
    return organization


def delete_organization(session: Session, principal: Principal, organization: Organization) -> DeleteResult:
    """Delete the organization, its members' accounts and (by cascade) everything it owns."""
    org_id = organization.id

    def count(stmt: Select[int]) -> int:
        return session.scalar(stmt) or 0

    cascaded = {
        "projects": count(select(func.count()).select_from(Project).where(Project.organization_id == org_id)),
        "tracks": count(select(func.count()).select_from(Track).where(Track.organization_id == org_id)),
        "courses": count(select(func.count()).select_from(Course).where(Course.organization_id == org_id)),
        "members": count(
            select(func.count()).select_from(Membership).where(Membership.organization_id == org_id)
        ),
    }
    member_ids = select(Membership.user_id).where(Membership.organization_id == org_id)
    session.execute(delete(User).where(User.id.in_(member_ids.scalar_subquery())))
    session.execute(delete(Organization).where(Organization.id == org_id))
    record_activity(
        session,
        organization_id=None,
        actor_id=principal.user_id,
        action="organization.deleted",
        entity_type="organization",
        entity_id=org_id,
        summary=f"Organization '{organization.name}' deleted",
    )
    session.commit()
    return DeleteResult(id=org_id, cascaded=cascaded)


def organizations_query() -> Select[Organization]:
    """All organizations by name (site admins' list)."""
    return select(Organization).order_by(Organization.name)


def activity_query(
    organization_id: uuid.UUID, entity_type: str | None, entity_id: str | None
) -> Select[ActivityEvent]:
    """The organization's activity log, newest first, optionally for one entity type or entity."""
    stmt = select(ActivityEvent).where(ActivityEvent.organization_id == organization_id)
    if entity_type:
        stmt = stmt.where(ActivityEvent.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(ActivityEvent.entity_id == entity_id)
    return stmt.order_by(ActivityEvent.created_at.desc(), ActivityEvent.id)
