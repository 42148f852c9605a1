"""Response bodies of the analytics endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from sandbox.services.organization_management.organization_schemas import ActivityResponse
from sandbox.shared.schemas import ResponseModel


class StatusCounts(ResponseModel):
    """A total and its split by status (every status listed, zeros included)."""

    total: int
    by_status: dict[str, int]


class OrganizationSummary(ResponseModel):
    """Counts of everything in an organization, by status."""

    organization_id: uuid.UUID
    projects: StatusCounts
    tracks: StatusCounts
    tracks_by_difficulty_level: dict[str, int]
    courses: StatusCounts = Field(description="by_status: published / unpublished")
    members: StatusCounts
    members_by_role: dict[str, int]
    enrollments: StatusCounts
    track_enrollments: StatusCounts
    generated_at: datetime


class CourseActivity(ResponseModel):
    """Recent activity on a course."""

    events_last_30_days: int
    last_activity_at: datetime | None
    recent: list[ActivityResponse]


class CourseSummary(ResponseModel):
    """Enrollment and activity figures of one course."""

    course_id: uuid.UUID
    title: str
    is_published: bool
    track_id: uuid.UUID | None
    enrollments: StatusCounts
    new_enrollments_last_30_days: int
    average_progress_percent: float | None = Field(description="Over active and completed enrollments")
    completion_rate: float | None = Field(description="completed / (active + completed), 0-1")
    activity: CourseActivity
    generated_at: datetime
