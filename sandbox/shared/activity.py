"""The activity log: every successful write leaves one event in its organization.

Organization admins read it through GET /organizations/{org_id}/activity and the analytics
summaries count it, so "who changed this, and when" always has an answer. Events are added to
the same session as the write they describe, so they commit (or roll back) together.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from sandbox.shared.models import ActivityEvent


def record_activity(
    session: Session,
    *,
    organization_id: uuid.UUID | None,
    actor_id: uuid.UUID | None,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID,
    summary: str,
) -> None:
    """Add an event such as `track.published` to the current transaction."""
    session.add(
        ActivityEvent(
            organization_id=organization_id,
            actor_id=actor_id,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            summary=summary[:500],
        )
    )
