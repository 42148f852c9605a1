"""Organization scoping: load a row only if the caller's organization owns it.

Every resource is reached through these helpers, so no route can read or write across
organizations whatever ids it is sent. A row of another organization answers exactly like a
row that does not exist (404 `not_found`): the caller learns nothing about other tenants.
Site admins act in every organization.
"""

from __future__ import annotations

import uuid
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from sandbox.shared.auth import Principal
from sandbox.shared.errors import not_found
from sandbox.shared.models import Organization


class OrgOwned(Protocol):
    """Any model with an organization_id column."""

    @property
    def organization_id(self) -> uuid.UUID: ...


OrgOwnedT = TypeVar("OrgOwnedT", bound=OrgOwned)


def get_in_org(
    session: Session,
    model: type[OrgOwnedT],
    entity_id: uuid.UUID,
    principal: Principal,
    *,
    entity: str,
    field: str | None = None,
) -> OrgOwnedT:
    """The row with `entity_id` if it exists in an organization the caller may reach, else 404."""
    row = session.get(model, entity_id)
    if row is None or not principal.can_access_org(row.organization_id):
        raise not_found(entity, field=field)
    return row


def get_organization(
    session: Session, organization_id: uuid.UUID, principal: Principal, *, field: str | None = None
) -> Organization:
    """The organization itself, if the caller belongs to it (or is a site admin), else 404."""
    organization = session.get(Organization, organization_id)
    if organization is None or not principal.can_access_org(organization.id):
        raise not_found("Organization", field=field)
    return organization
