"""Request and response bodies of the enrollment endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from sandbox.shared.enums import EnrollmentStatus
from sandbox.shared.schemas import Email, RequestModel, ResponseModel


class EnrollmentCreate(RequestModel):
    """Body of POST /enrollments: enroll one student (by email) in one course."""

    student_email: Email
    course_id: uuid.UUID


class EnrollmentResponse(ResponseModel):
    """A student's enrollment in a course."""

    id: uuid.UUID
    course_id: uuid.UUID
    student_id: uuid.UUID
    student_email: str
    status: EnrollmentStatus
    progress_percent: int
    enrolled_at: datetime
    completed_at: datetime | None
