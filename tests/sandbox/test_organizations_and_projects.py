"""Business rules of organizations and projects."""

from __future__ import annotations

from collections.abc import Callable

import httpx2
from sqlalchemy import select

from sandbox.shared.models import ActivityEvent, Course, Enrollment, Organization, Project, Track, User
from tests.sandbox.helpers import BP, NW, Api, assert_error, org_id, project_id

ORG = org_id(NW)
DSF = project_id(NW, "data-science-foundations")
CLOUD = project_id(NW, "cloud-engineering-pathway")
VALID = {"name": "Analytics Engineering", "description": "Warehouses, dbt and data modeling."}


def create(api: Api, who: str = "nw_admin", org: object = ORG, **fields: object) -> httpx2.Response:
    return api.post(f"/organizations/{org}/projects", who, json={**VALID, **fields})


def test_create_project_derives_slug_and_starts_as_draft(api: Api) -> None:
    response = create(api, name="  Analytics   Engineering: Core! ", target_roles=["Analytics Engineer"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Analytics Engineering: Core!"
    assert body["slug"] == "analytics-engineering-core"
    assert body["status"] == "draft" and body["track_count"] == 0
    assert body["organization_id"] == str(ORG)
    events = api.count(
        ActivityEvent, ActivityEvent.action == "project.created", ActivityEvent.entity_id == body["id"]
    )
    assert events == 1


def test_project_names_are_unique_per_organization_ignoring_case_and_spaces(api: Api) -> None:
    before = api.count(Project)
    duplicate = create(api, name="data  SCIENCE foundations")
    assert_error(duplicate, 409, "project_name_taken", "name")
    assert api.count(Project) == before
    # the same name is fine in another organization
    other = create(api, "bp_admin", org_id(BP), name="Data Science Foundations")
    assert other.status_code == 201, other.text


def test_project_slugs_are_unique_per_organization(api: Api) -> None:
    clash = create(api, name="Web Dev", slug="web-development-bootcamp")
    assert_error(clash, 409, "project_slug_taken", "slug")
    bad = create(api, slug="Not A Slug")
    assert_error(bad, 422, "string_pattern_mismatch", "slug")


def test_project_field_limits(api: Api) -> None:
    assert_error(create(api, description="too short"), 422, "string_too_short", "description")
    assert_error(create(api, description="x" * 2001), 422, "string_too_long", "description")
    assert_error(create(api, duration_weeks=0), 422, "greater_than_equal", "duration_weeks")
    assert_error(create(api, duration_weeks=53), 422, "less_than_equal", "duration_weeks")
    dates = create(api, start_date="2025-06-01", end_date="2025-05-01")
    assert_error(dates, 422, "end_date_before_start_date", "end_date")
    ok = create(api, duration_weeks=52, start_date="2025-06-01", end_date="2025-06-01")
    assert ok.status_code == 201, ok.text


def test_project_limit_per_organization(make_api: Callable[..., Api]) -> None:
    api = make_api({"organizations": {"max_projects_per_org": 3}})  # Northwind already has 3
    assert_error(create(api), 409, "organization_project_limit", None)
    assert create(api, "bp_admin", org_id(BP)).status_code == 201  # Brightpath has 2


def test_publish_moves_draft_to_active_once(api: Api) -> None:
    first = api.post(f"/projects/{CLOUD}/publish", "nw_admin")
    assert first.status_code == 200 and first.json()["status"] == "active"
    assert first.json()["published_at"] is not None
    assert_error(
        api.post(f"/projects/{CLOUD}/publish", "nw_admin"), 409, "invalid_status_transition", "status"
    )


def test_list_projects_filters_by_status(api: Api) -> None:
    drafts = api.get(f"/organizations/{ORG}/projects", "nw_admin", params={"status": "draft"}).json()
    assert [p["name"] for p in drafts["items"]] == ["Cloud Engineering Pathway"]
    everything = api.get(f"/organizations/{ORG}/projects", "nw_instructor").json()
    assert everything["total"] == 3 and everything["limit"] == 50 and everything["offset"] == 0
    assert_error(
        api.get(f"/organizations/{ORG}/projects", "nw_admin", params={"status": "paused"}),
        422,
        "enum",
        "status",
    )


def test_deleting_a_project_with_active_enrollments_needs_force(api: Api) -> None:
    tracks = api.count(Track, Track.project_id == DSF)
    before = api.snapshot()
    refused = api.delete(f"/organizations/{ORG}/projects/{DSF}", "nw_admin")
    assert_error(refused, 409, "active_enrollments", "force")
    assert api.snapshot() == before
    forced = api.delete(f"/organizations/{ORG}/projects/{DSF}", "nw_admin", params={"force": "true"})
    assert forced.status_code == 200, forced.text
    body = forced.json()
    assert body["deleted"] is True and body["cascaded"]["tracks"] == tracks == 3
    assert body["cascaded"]["courses"] == 5 and body["cascaded"]["enrollments"] > 0
    assert api.count(Project, Project.id == DSF) == 0
    assert api.count(Track, Track.project_id == DSF) == 0
    course_ids = select(Course.id).where(Course.organization_id == ORG)
    assert api.count(Course, Course.organization_id == ORG) == 3  # the bootcamp's courses remain
    assert api.count(Enrollment, Enrollment.course_id.not_in(course_ids)) > 0  # Brightpath untouched


def test_deleting_a_project_without_enrollments_needs_no_force(api: Api) -> None:
    response = api.delete(f"/organizations/{ORG}/projects/{CLOUD}", "nw_admin")
    assert response.status_code == 200 and response.json()["cascaded"]["tracks"] == 0


def test_organization_crud_for_site_admins(api: Api) -> None:
    created = api.post(
        "/organizations", "site_admin", json={"name": "Summit College", "contact_email": "A@B.example"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["slug"] == "summit-college" and created.json()["contact_email"] == "a@b.example"
    assert_error(
        api.post("/organizations", "site_admin", json={"name": "summit college"}),
        409,
        "organization_name_taken",
    )
    clash = api.post("/organizations", "site_admin", json={"name": "Other", "slug": "northwind-academy"})
    assert_error(clash, 409, "organization_slug_taken", "slug")
    listed = api.get("/organizations", "site_admin").json()
    assert listed["total"] == 3


def test_organization_update_keeps_names_unique(api: Api) -> None:
    renamed = api.put(
        f"/organizations/{ORG}",
        "nw_admin",
        json={"name": "Northwind Learning", "website": "https://n.example"},
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Northwind Learning"
    assert renamed.json()["slug"] == "northwind-academy"  # slugs never change
    clash = api.put(f"/organizations/{ORG}", "nw_admin", json={"name": "Brightpath Institute"})
    assert_error(clash, 409, "organization_name_taken", "name")


def test_deleting_an_organization_removes_everything_in_it(api: Api) -> None:
    response = api.delete(f"/organizations/{ORG}", "site_admin")
    assert response.status_code == 200, response.text
    assert response.json()["cascaded"] == {"projects": 3, "tracks": 6, "courses": 8, "members": 13}
    assert api.count(Organization) == 1
    assert api.count(Project, Project.organization_id == ORG) == 0
    assert api.count(User, User.email.like("%@northwind-academy.example")) == 0
    assert api.count(Project, Project.organization_id == org_id(BP)) == 2


def test_activity_log_is_newest_first_and_filterable(api: Api) -> None:
    created = create(api).json()
    api.post(f"/projects/{created['id']}/publish", "nw_admin")
    log = api.get(f"/organizations/{ORG}/activity", "nw_admin", params={"entity_id": created["id"]}).json()
    assert [e["action"] for e in log["items"]] == ["project.published", "project.created"]
    assert log["items"][0]["actor_id"] is not None
    tracks_only = api.get(
        f"/organizations/{ORG}/activity", "nw_admin", params={"entity_type": "track"}
    ).json()
    assert tracks_only["total"] == 6 and {e["entity_type"] for e in tracks_only["items"]} == {"track"}
