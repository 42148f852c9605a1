"""HTTP endpoints of enrollments: enroll one student in one course, list enrollments."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from sandbox.services.course_management import enrollments
from sandbox.services.course_management.enrollment_schemas import EnrollmentCreate, EnrollmentResponse
from sandbox.shared.auth import Principal, RequirePermissions
from sandbox.shared.context import SessionDep
from sandbox.shared.enums import EnrollmentStatus
from sandbox.shared.models import Course
from sandbox.shared.pagination import Page, PageDep, fetch_page
from sandbox.shared.permissions import Permission as P
from sandbox.shared.scoping import get_in_org

router = APIRouter(tags=["enrollments"])

AssignStudents = Annotated[Principal, Depends(RequirePermissions(P.ASSIGN_STUDENTS_TO_TRACKS))]
ViewProgress = Annotated[Principal, Depends(RequirePermissions(P.VIEW_STUDENT_PROGRESS, P.VIEW_OWN_PROGRESS))]


@router.post("/enrollments", response_model=EnrollmentResponse, status_code=201)
def create_enrollment(
    body: EnrollmentCreate, principal: AssignStudents, session: SessionDep
) -> EnrollmentResponse:
    """Enroll a student (by email) in a published course."""
    return enrollments.create_enrollment(session, principal, body)


@router.get("/enrollments", response_model=Page[EnrollmentResponse])
def list_enrollments(
    principal: ViewProgress,
    session: SessionDep,
    page: PageDep,
    course_id: Annotated[uuid.UUID | None, Query()] = None,
    status: Annotated[EnrollmentStatus | None, Query()] = None,
) -> Page[EnrollmentResponse]:
    """Enrollments the caller may see (admins: all; instructors: their courses; students: their own)."""
    if course_id is not None:
        get_in_org(session, Course, course_id, principal, entity="Course", field="course_id")
    rows, total = fetch_page(session, enrollments.enrollments_query(principal, course_id, status), page)
    items = enrollments.enrollment_responses(session, rows)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)
