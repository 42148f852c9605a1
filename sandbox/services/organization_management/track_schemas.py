"""Request and response bodies of the track endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from sandbox.shared.enums import DifficultyLevel, TrackStatus
from sandbox.shared.schemas import Email, Name, RequestModel, ResponseModel, ShortList


class TrackCreate(RequestModel):
    """Body of POST /tracks/."""

    name: Name
    project_id: uuid.UUID
    description: str = Field("", max_length=2000)
    difficulty_level: DifficultyLevel = DifficultyLevel.BEGINNER
    duration_weeks: int | None = Field(None, ge=1, le=52)
    max_students: int | None = Field(None, ge=1, le=1000)
    target_audience: ShortList = Field(default_factory=list)
    prerequisites: ShortList = Field(default_factory=list)
    learning_objectives: ShortList = Field(default_factory=list)


class TrackUpdate(RequestModel):
    """Body of PUT /tracks/{track_id}: only the fields sent are changed (status: use publish)."""

    name: Name | None = None
    description: str | None = Field(None, max_length=2000)
    difficulty_level: DifficultyLevel | None = None
    duration_weeks: int | None = Field(None, ge=1, le=52)
    max_students: int | None = Field(None, ge=1, le=1000)
    target_audience: ShortList | None = None
    prerequisites: ShortList | None = None
    learning_objectives: ShortList | None = None


class TrackDuplicate(RequestModel):
    """Body of POST /tracks/{track_id}/duplicate; both fields optional."""

    name: Name | None = Field(None, description="Default: '<name> (Copy)', numbered if taken")
    project_id: uuid.UUID | None = Field(None, description="Target project; default: the same project")


class TrackResponse(ResponseModel):
    """A track with its enrollment, instructor and course counts."""

    id: uuid.UUID
    organization_id: uuid.UUID
    project_id: uuid.UUID
    name: str
    description: str
    difficulty_level: DifficultyLevel
    duration_weeks: int | None
    max_students: int | None
    target_audience: list[str]
    prerequisites: list[str]
    learning_objectives: list[str]
    status: TrackStatus
    enrollment_count: int
    instructor_count: int
    course_count: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


class TrackEnrollRequest(RequestModel):
    """Body of POST /tracks/{track_id}/enroll."""

    student_emails: list[Email] = Field(min_length=1)


class FailedEnrollment(ResponseModel):
    """Why one email was not enrolled."""

    email: str
    rule: str
    detail: str


class TrackEnrollResponse(ResponseModel):
    """Per-email outcome of a bulk track enrollment."""

    track_id: uuid.UUID
    successful_enrollments: list[str]
    failed_enrollments: list[FailedEnrollment]
    total_enrolled: int
    course_enrollments_created: int
