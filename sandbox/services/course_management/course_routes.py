"""HTTP endpoints of courses: create, list, read, edit, delete, publish, unpublish."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from sandbox.services.course_management import courses
from sandbox.services.course_management.course_schemas import CourseCreate, CourseResponse, CourseUpdate
from sandbox.shared.auth import Principal, RequirePermissions
from sandbox.shared.context import SessionDep
from sandbox.shared.models import Track
from sandbox.shared.pagination import Page, PageDep, fetch_page
from sandbox.shared.permissions import Permission as P
from sandbox.shared.schemas import DeleteResult
from sandbox.shared.scoping import get_in_org, get_organization

router = APIRouter(tags=["courses"])

ManageCourses = Annotated[Principal, Depends(RequirePermissions(P.MANAGE_COURSES, P.MANAGE_ASSIGNED_CONTENT))]
ViewCourses = Annotated[Principal, Depends(RequirePermissions(P.VIEW_COURSES))]
DeleteCourses = Annotated[Principal, Depends(RequirePermissions(P.DELETE_COURSES))]


@router.post("/courses", response_model=CourseResponse, status_code=201)
def create_course(body: CourseCreate, principal: ManageCourses, session: SessionDep) -> CourseResponse:
    """Create an unpublished course (instructors: owned by them, only in tracks they teach)."""
    return courses.course_response(session, courses.create_course(session, principal, body))


@router.get("/courses", response_model=Page[CourseResponse])
def list_courses(
    principal: ViewCourses,
    session: SessionDep,
    page: PageDep,
    organization_id: Annotated[
        uuid.UUID | None, Query(description="Default: the caller's organization")
    ] = None,
    track_id: Annotated[uuid.UUID | None, Query()] = None,
    published_only: Annotated[bool, Query(description="Students always get published courses only")] = False,
) -> Page[CourseResponse]:
    """Courses of the organization, by title."""
    if organization_id is not None:
        get_organization(session, organization_id, principal, field="organization_id")
    if track_id is not None:
        get_in_org(session, Track, track_id, principal, entity="Track", field="track_id")
    stmt = courses.courses_query(principal, organization_id, track_id, published_only)
    rows, total = fetch_page(session, stmt, page)
    items = [courses.course_response(session, row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/courses/{course_id}", response_model=CourseResponse)
def get_course(course_id: uuid.UUID, principal: ViewCourses, session: SessionDep) -> CourseResponse:
    """One course (students: published only)."""
    return courses.course_response(session, courses.get_readable_course(session, principal, course_id))


@router.put("/courses/{course_id}", response_model=CourseResponse)
def update_course(
    course_id: uuid.UUID, body: CourseUpdate, principal: ManageCourses, session: SessionDep
) -> CourseResponse:
    """Change a course's fields (instructors: their own courses)."""
    course = courses.get_readable_course(session, principal, course_id)
    return courses.course_response(session, courses.update_course(session, principal, course, body))


@router.delete("/courses/{course_id}", response_model=DeleteResult)
def delete_course(
    course_id: uuid.UUID,
    principal: DeleteCourses,
    session: SessionDep,
    force: Annotated[bool, Query(description="Also delete active enrollments")] = False,
) -> DeleteResult:
    """Delete a course; 409 while it has active enrollments unless force=true."""
    course = courses.get_readable_course(session, principal, course_id)
    return courses.delete_course(session, principal, course, force=force)


@router.post("/courses/{course_id}/publish", response_model=CourseResponse)
def publish_course(course_id: uuid.UUID, principal: ManageCourses, session: SessionDep) -> CourseResponse:
    """Publish a course (it needs a description)."""
    course = courses.get_readable_course(session, principal, course_id)
    return courses.course_response(session, courses.publish_course(session, principal, course))


@router.post("/courses/{course_id}/unpublish", response_model=CourseResponse)
def unpublish_course(course_id: uuid.UUID, principal: ManageCourses, session: SessionDep) -> CourseResponse:
    """Hide a published course from students."""
    course = courses.get_readable_course(session, principal, course_id)
    return courses.course_response(session, courses.unpublish_course(session, principal, course))
