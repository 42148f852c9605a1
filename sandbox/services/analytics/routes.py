"""HTTP endpoints of analytics: organization summary and per-course summary.

Both need view_student_progress (organization admins, instructors, site admins). Instructors get
course summaries only for courses they own or whose track they teach (403 `not_course_instructor`).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select

from sandbox.services.analytics import summaries
from sandbox.services.analytics.schemas import CourseSummary, OrganizationSummary
from sandbox.services.course_management.enrollments import instructor_course_condition
from sandbox.shared.auth import Principal, RequirePermissions
from sandbox.shared.context import SessionDep
from sandbox.shared.errors import forbidden
from sandbox.shared.models import Course
from sandbox.shared.permissions import Permission as P
from sandbox.shared.scoping import get_in_org, get_organization

router = APIRouter(prefix="/analytics", tags=["analytics"])

ViewProgress = Annotated[Principal, Depends(RequirePermissions(P.VIEW_STUDENT_PROGRESS))]


@router.get("/organizations/{org_id}/summary", response_model=OrganizationSummary)
def organization_summary(
    org_id: uuid.UUID, principal: ViewProgress, session: SessionDep
) -> OrganizationSummary:
    """Counts of projects, tracks, courses, members and enrollments, by status."""
    return summaries.organization_summary(session, get_organization(session, org_id, principal))


@router.get("/courses/{course_id}/summary", response_model=CourseSummary)
def course_summary(course_id: uuid.UUID, principal: ViewProgress, session: SessionDep) -> CourseSummary:
    """Enrollments by status, progress, completion rate and recent activity of one course."""
    course = get_in_org(session, Course, course_id, principal, entity="Course")
    if not principal.has(P.MANAGE_COURSES):
        mine = select(Course.id).where(Course.id == course.id, instructor_course_condition(principal.user_id))
        if session.scalar(mine) is None:
            raise forbidden(
                "Instructors see summaries of their own courses only", rule="not_course_instructor"
            )
    return summaries.course_summary(session, course)
