"""Brightpath's people against every endpoint with Northwind's ids: 403/404, no leak, no change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sandbox.shared.models import Course, Organization, Project, Track
from tests.sandbox.cases import CASES, DSF, ORG, PBA, PDA, Case
from tests.sandbox.helpers import PEOPLE, Api, assert_error

ACTORS = {"organization_admin": "bp_admin", "instructor": "bp_instructor", "student": "bp_student"}
# endpoints that name no Northwind row: they answer about the caller's own organization
OWN_SCOPE = {"GET /api/v1/users/me", "GET /api/v1/tracks/", "GET /api/v1/courses", "GET /api/v1/enrollments"}
# refused by ownership in Northwind, but the Brightpath instructor does not even find the course
OWNERSHIP_403 = {("POST /api/v1/courses/{course_id}/publish", "instructor")}


def northwind_ids(api: Api) -> set[str]:
    statements = (
        select(Organization.id).where(Organization.id == ORG),
        select(Project.id).where(Project.organization_id == ORG),
        select(Track.id).where(Track.organization_id == ORG),
        select(Course.id).where(Course.organization_id == ORG),
    )
    with api.session() as session:
        return {str(row_id) for stmt in statements for row_id in session.scalars(stmt)}


def expected_status(case: Case, role: str) -> int:
    if case.expected[role] == 403 and (case.id, role) not in OWNERSHIP_403:
        return 403  # the role lacks the permission whatever the organization
    return 200 if case.id in OWN_SCOPE else 404


CROSS = [(case, role) for case in CASES for role in ACTORS]


@pytest.mark.parametrize(("case", "role"), CROSS, ids=[f"{c.id} as brightpath {r}" for c, r in CROSS])
def test_other_organization_cannot_reach_northwind(api: Api, case: Case, role: str) -> None:
    before = api.snapshot()
    response = api.call(case.method, case.path, ACTORS[role], json=case.body, params=case.params)
    expected = expected_status(case, role)
    assert response.status_code == expected, (case.id, role, response.text)
    if expected == 200:
        leaked = [i for i in northwind_ids(api) if i in response.text]
        assert leaked == [], f"{case.id} leaked Northwind rows to Brightpath"
    else:
        assert response.json()["rule"] in ("not_found", "permission_denied"), response.json()
    assert api.snapshot() == before, "a cross-organization request changed the database"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/tracks/", {"project_id": str(DSF)}, "project_id"),
        ("/courses", {"organization_id": str(ORG)}, "organization_id"),
        ("/courses", {"track_id": str(PDA)}, "track_id"),
        ("/enrollments", {"course_id": str(PBA)}, "course_id"),
    ],
)
def test_list_filters_naming_another_organization_are_404(
    api: Api, path: str, params: dict[str, str], field: str
) -> None:
    assert_error(api.get(path, "bp_admin", params=params), 404, "not_found", field)


def test_references_to_other_organizations_inside_bodies(api: Api) -> None:
    before = api.snapshot()
    security = api.get("/tracks/", "bp_admin", params={"status": "active"}).json()["items"][0]["id"]
    # a Northwind instructor cannot be assigned to a Brightpath track
    foreign = api.post(
        f"/rbac/tracks/{security}/instructors", "bp_admin", json={"instructor_email": PEOPLE["nw_instructor"]}
    )
    assert_error(foreign, 404, "instructor_not_found")
    # Northwind students are not found when enrolling into a Brightpath track
    enrolled = api.post(
        f"/tracks/{security}/enroll", "bp_admin", json={"student_emails": [PEOPLE["nw_student"]]}
    )
    assert (
        enrolled.status_code == 200
        and enrolled.json()["failed_enrollments"][0]["rule"] == "student_not_found"
    )
    # a Brightpath track cannot be copied into a Northwind project
    copy = api.post(f"/tracks/{security}/duplicate", "bp_admin", json={"project_id": str(DSF)})
    assert_error(copy, 404, "not_found", "project_id")
    assert api.snapshot() == before
