"""Every protected endpoint, with a valid request and the status each role must get.

Used by the permission matrix (role x endpoint) and checked against the OpenAPI document, so a
new endpoint without a row here fails the suite. Requests act in Northwind Academy on seeded rows:
- "Python for Data Analysis" (active track, taught by Daniel, Aisha enrolled);
- "Deep Learning Systems" (draft track, nobody teaches or is enrolled);
- "Python Basics for Analysts" (published course owned by Daniel);
- "Neural Networks from Scratch" (unpublished course with a description, owned by nobody);
- "Cloud Engineering Pathway" (draft project without tracks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.sandbox.helpers import NW, NWD, course_id, membership_id, org_id, project_id, track_id

ORG = org_id(NW)
DSF = project_id(NW, "data-science-foundations")
CLOUD = project_id(NW, "cloud-engineering-pathway")
PDA = track_id(NW, "Python for Data Analysis")
DLS = track_id(NW, "Deep Learning Systems")
PBA = course_id(NW, "Python Basics for Analysts")
NNS = course_id(NW, "Neural Networks from Scratch")


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # concrete path under /api/v1
    route: str  # the OpenAPI path template it exercises
    expected: dict[str, int]  # role -> status
    body: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}"


def roles(site: int, admin: int, instructor: int, student: int) -> dict[str, int]:
    return {"site_admin": site, "organization_admin": admin, "instructor": instructor, "student": student}


ALL_OK = roles(200, 200, 200, 200)
ADMINS_ONLY = roles(200, 200, 403, 403)
ADMINS_CREATE = roles(201, 201, 403, 403)
STAFF_READ = roles(200, 200, 200, 403)

CASES = [
    Case("GET", "/users/me", "/api/v1/users/me", ALL_OK),
    Case("GET", "/organizations", "/api/v1/organizations", roles(200, 403, 403, 403)),
    Case(
        "POST",
        "/organizations",
        "/api/v1/organizations",
        roles(201, 403, 403, 403),
        {"name": "Summit College"},
    ),
    Case("GET", f"/organizations/{ORG}", "/api/v1/organizations/{org_id}", ALL_OK),
    Case(
        "PUT",
        f"/organizations/{ORG}",
        "/api/v1/organizations/{org_id}",
        ADMINS_ONLY,
        {"description": "Updated."},
    ),
    Case("DELETE", f"/organizations/{ORG}", "/api/v1/organizations/{org_id}", roles(200, 403, 403, 403)),
    Case("GET", f"/organizations/{ORG}/activity", "/api/v1/organizations/{org_id}/activity", ADMINS_ONLY),
    Case(
        "POST",
        f"/organizations/{ORG}/projects",
        "/api/v1/organizations/{org_id}/projects",
        ADMINS_CREATE,
        {"name": "Analytics Engineering", "description": "dbt, warehouses and data modeling."},
    ),
    Case("GET", f"/organizations/{ORG}/projects", "/api/v1/organizations/{org_id}/projects", STAFF_READ),
    Case("GET", f"/projects/{DSF}", "/api/v1/projects/{project_id}", STAFF_READ),
    Case("POST", f"/projects/{CLOUD}/publish", "/api/v1/projects/{project_id}/publish", ADMINS_ONLY),
    Case(
        "DELETE",
        f"/organizations/{ORG}/projects/{CLOUD}",
        "/api/v1/organizations/{org_id}/projects/{project_id}",
        ADMINS_ONLY,
    ),
    Case(
        "POST",
        "/tracks/",
        "/api/v1/tracks/",
        ADMINS_CREATE,
        {"name": "SQL for Analysts", "project_id": str(DSF), "difficulty_level": "beginner"},
    ),
    Case("GET", "/tracks/", "/api/v1/tracks/", ALL_OK),
    Case("GET", f"/tracks/{PDA}", "/api/v1/tracks/{track_id}", ALL_OK),
    Case("PUT", f"/tracks/{PDA}", "/api/v1/tracks/{track_id}", ADMINS_ONLY, {"duration_weeks": 9}),
    Case("DELETE", f"/tracks/{DLS}", "/api/v1/tracks/{track_id}", ADMINS_ONLY),
    Case("POST", f"/tracks/{DLS}/publish", "/api/v1/tracks/{track_id}/publish", ADMINS_ONLY),
    Case(
        "POST",
        f"/tracks/{PDA}/enroll",
        "/api/v1/tracks/{track_id}/enroll",
        ADMINS_ONLY,
        {"student_emails": [f"hana.sato@{NWD}"]},
    ),
    Case("POST", f"/tracks/{PDA}/duplicate", "/api/v1/tracks/{track_id}/duplicate", ADMINS_CREATE, {}),
    Case(
        "POST",
        f"/rbac/organizations/{ORG}/members",
        "/api/v1/rbac/organizations/{org_id}/members",
        ADMINS_CREATE,
        {"user_email": f"new.instructor@{NWD}", "role_type": "instructor"},
    ),
    Case(
        "GET", f"/rbac/organizations/{ORG}/members", "/api/v1/rbac/organizations/{org_id}/members", STAFF_READ
    ),
    Case(
        "DELETE",
        f"/rbac/organizations/{ORG}/members/{membership_id('nw_student2')}",
        "/api/v1/rbac/organizations/{org_id}/members/{membership_id}",
        ADMINS_ONLY,
    ),
    Case(
        "POST",
        f"/rbac/tracks/{DLS}/instructors",
        "/api/v1/rbac/tracks/{track_id}/instructors",
        ADMINS_CREATE,
        {"instructor_email": f"sofia.alvarez@{NWD}"},
    ),
    Case("GET", f"/rbac/tracks/{PDA}/instructors", "/api/v1/rbac/tracks/{track_id}/instructors", STAFF_READ),
    Case(
        "POST",
        "/courses",
        "/api/v1/courses",
        roles(201, 201, 201, 403),
        {
            "title": "Visualizing Data",
            "organization_id": str(ORG),
            "track_id": str(PDA),
            "description": "Charts.",
        },
    ),
    Case("GET", "/courses", "/api/v1/courses", ALL_OK),
    Case("GET", f"/courses/{PBA}", "/api/v1/courses/{course_id}", ALL_OK),
    Case("PUT", f"/courses/{PBA}", "/api/v1/courses/{course_id}", roles(200, 200, 200, 403), {"price": 49.0}),
    Case("DELETE", f"/courses/{NNS}", "/api/v1/courses/{course_id}", ADMINS_ONLY),
    # an instructor holds manage_assigned_content, but this course is not theirs: 403 not_course_owner
    Case("POST", f"/courses/{NNS}/publish", "/api/v1/courses/{course_id}/publish", ADMINS_ONLY),
    Case(
        "POST",
        f"/courses/{PBA}/unpublish",
        "/api/v1/courses/{course_id}/unpublish",
        roles(200, 200, 200, 403),
    ),
    Case(
        "POST",
        "/enrollments",
        "/api/v1/enrollments",
        ADMINS_CREATE,
        {"student_email": f"hana.sato@{NWD}", "course_id": str(PBA)},
    ),
    Case("GET", "/enrollments", "/api/v1/enrollments", ALL_OK),
    Case(
        "GET",
        f"/analytics/organizations/{ORG}/summary",
        "/api/v1/analytics/organizations/{org_id}/summary",
        STAFF_READ,
    ),
    Case(
        "GET",
        f"/analytics/courses/{PBA}/summary",
        "/api/v1/analytics/courses/{course_id}/summary",
        STAFF_READ,
    ),
]

PUBLIC_ROUTES = {
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/verify-email"),
    ("GET", "/api/v1/health"),
}
