"""Request and response bodies of the course endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from sandbox.shared.enums import DifficultyLevel, DurationUnit
from sandbox.shared.schemas import RequestModel, ResponseModel, ShortList

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class CourseCreate(RequestModel):
    """Body of POST /courses. organization_id defaults to the caller's organization."""

    title: Title
    description: str = Field("", max_length=5000, description="Required (non-blank) to publish")
    difficulty_level: DifficultyLevel = DifficultyLevel.BEGINNER
    category: Category | None = None
    estimated_duration: int | None = Field(None, ge=1, le=1000)
    duration_unit: DurationUnit = DurationUnit.WEEKS
    price: float = Field(0.0, ge=0, le=100000)
    tags: ShortList = Field(default_factory=list)
    organization_id: uuid.UUID | None = None
    track_id: uuid.UUID | None = None


class CourseUpdate(RequestModel):
    """Body of PUT /courses/{course_id}: only the fields sent are changed; track_id: null detaches."""

    title: Title | None = None
    description: str | None = Field(None, max_length=5000)
    difficulty_level: DifficultyLevel | None = None
    category: Category | None = None
    estimated_duration: int | None = Field(None, ge=1, le=1000)
    duration_unit: DurationUnit | None = None
    price: float | None = Field(None, ge=0, le=100000)
    tags: ShortList | None = None
    track_id: uuid.UUID | None = None


class CourseResponse(ResponseModel):
    """A course with its active enrollment count."""

    id: uuid.UUID
    organization_id: uuid.UUID
    track_id: uuid.UUID | None
    instructor_id: uuid.UUID | None
    title: str
    description: str
    difficulty_level: DifficultyLevel
    category: str | None
    estimated_duration: int | None
    duration_unit: DurationUnit
    price: float
    tags: list[str]
    is_published: bool
    published_at: datetime | None
    enrollment_count: int
    created_at: datetime
    updated_at: datetime
