"""Business rules of tracks: creation, uniqueness, levels, publishing, deletion, enrollment, copies."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sandbox.shared.models import Course, Enrollment, Project, Track, TrackEnrollment, TrackInstructor
from tests.sandbox.helpers import BP, NW, NWD, Api, assert_error, project_id, track_id, user_id

DSF = project_id(NW, "data-science-foundations")
WDB = project_id(NW, "web-development-bootcamp")
PDA = track_id(NW, "Python for Data Analysis")
AML = track_id(NW, "Applied Machine Learning")
DLS = track_id(NW, "Deep Learning Systems")
SECURITY = track_id(BP, "Security Fundamentals")


def new_track(api: Api, **fields: Any) -> Any:
    body = {"name": "SQL for Analysts", "project_id": str(DSF), "difficulty_level": "intermediate", **fields}
    return api.post("/tracks/", "nw_admin", json=body)


def test_create_track_in_a_project_of_the_organization(api: Api) -> None:
    response = new_track(api, learning_objectives=["Write joins"], max_students=25)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "draft" and body["difficulty_level"] == "intermediate"
    assert body["project_id"] == str(DSF) and body["learning_objectives"] == ["Write joins"]
    assert body["enrollment_count"] == body["instructor_count"] == body["course_count"] == 0


def test_a_track_needs_an_existing_project_of_the_same_organization(api: Api) -> None:
    before = api.count(Track)
    missing = new_track(api, project_id="00000000-0000-0000-0000-000000000000")
    assert_error(missing, 404, "not_found", "project_id")
    foreign = new_track(api, project_id=str(project_id(BP, "cybersecurity-essentials")))
    assert_error(foreign, 404, "not_found", "project_id")
    assert_error(new_track(api, project_id=None), 422, "uuid_type", "project_id")
    assert api.count(Track) == before


def test_tracks_cannot_be_added_to_closed_projects(api: Api) -> None:
    with api.session() as session:
        project = session.get(Project, DSF)
        assert project is not None
        project.status = "archived"
        session.commit()
    assert_error(new_track(api), 409, "project_closed", "project_id")


def test_track_names_are_unique_within_a_project_only(api: Api) -> None:
    assert_error(new_track(api, name="python FOR data analysis"), 409, "track_name_taken", "name")
    elsewhere = new_track(api, name="Python for Data Analysis", project_id=str(WDB))
    assert elsewhere.status_code == 201, elsewhere.text


def test_difficulty_level_must_be_one_of_the_three_levels(api: Api) -> None:
    body = assert_error(new_track(api, difficulty_level="expert"), 422, "enum", "difficulty_level")
    assert "beginner" in body["detail"]
    for level in ("beginner", "intermediate", "advanced"):
        assert new_track(api, name=f"Track {level}", difficulty_level=level).status_code == 201
    listed = api.get("/tracks/", "nw_admin", params={"difficulty_level": "advanced"}).json()
    assert {t["name"] for t in listed["items"]} == {
        "Deep Learning Systems",
        "Scalable Web Architecture",
        "Track advanced",
    }


def test_track_field_limits(api: Api) -> None:
    assert_error(new_track(api, duration_weeks=53), 422, "less_than_equal", "duration_weeks")
    assert_error(new_track(api, max_students=0), 422, "greater_than_equal", "max_students")
    assert_error(new_track(api, name="x"), 422, "string_too_short", "name")
    assert_error(new_track(api, prerequisites=["ok"] * 21), 422, "too_long", "prerequisites")


def test_update_track_keeps_names_unique_and_capacity_above_enrollment(api: Api) -> None:
    renamed = api.put(
        f"/tracks/{DLS}", "nw_admin", json={"name": "Deep Learning at Scale", "difficulty_level": "advanced"}
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Deep Learning at Scale"
    clash = api.put(f"/tracks/{DLS}", "nw_admin", json={"name": "Applied machine learning"})
    assert_error(clash, 409, "track_name_taken", "name")
    shrink = api.put(f"/tracks/{PDA}", "nw_admin", json={"max_students": 3})  # 4 students enrolled
    assert_error(shrink, 409, "max_students_below_enrolled", "max_students")
    assert api.put(f"/tracks/{PDA}", "nw_admin", json={"max_students": 4}).status_code == 200
    assert_error(
        api.put(f"/tracks/{PDA}", "nw_admin", json={"status": "active"}), 422, "extra_forbidden", "status"
    )


def test_publish_track_moves_draft_to_active_once(api: Api) -> None:
    published = api.post(f"/tracks/{DLS}/publish", "nw_admin")
    assert published.status_code == 200 and published.json()["status"] == "active"
    assert_error(api.post(f"/tracks/{DLS}/publish", "nw_admin"), 409, "invalid_status_transition", "status")


def test_deleting_a_track_with_active_enrollments_needs_force(api: Api) -> None:
    before = api.snapshot()
    assert_error(api.delete(f"/tracks/{PDA}", "nw_admin"), 409, "active_enrollments", "force")
    assert api.snapshot() == before
    forced = api.delete(f"/tracks/{PDA}", "nw_admin", params={"force": True})
    assert forced.status_code == 200, forced.text
    assert forced.json()["cascaded"] == {
        "courses": 2,
        "enrollments": 8,
        "track_enrollments": 4,
        "instructor_assignments": 1,
    }
    assert api.count(Track, Track.id == PDA) == 0
    assert api.count(Course, Course.track_id == PDA) == 0
    assert api.count(TrackInstructor, TrackInstructor.track_id == PDA) == 0
    assert api.count(TrackEnrollment, TrackEnrollment.track_id == PDA) == 0


def enroll(api: Api, track: object, *emails: str, who: str = "nw_admin") -> Any:
    return api.post(f"/tracks/{track}/enroll", who, json={"student_emails": list(emails)})


def test_enroll_reports_each_email(api: Api) -> None:
    response = enroll(
        api,
        AML,
        f"hana.sato@{NWD}",
        f"HANA.SATO@{NWD}",
        "nobody@nowhere.example",
        f"daniel.kim@{NWD}",
        f"aisha.rahman@{NWD}",
        "ivan.petrov@brightpath.example",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["successful_enrollments"] == [f"hana.sato@{NWD}"] and body["total_enrolled"] == 1
    failures = {f["email"]: f["rule"] for f in body["failed_enrollments"]}
    assert failures == {
        "nobody@nowhere.example": "student_not_found",
        f"daniel.kim@{NWD}": "not_a_student",
        f"aisha.rahman@{NWD}": "already_enrolled",
        "ivan.petrov@brightpath.example": "student_not_found",
    }
    # Applied ML has one published course: Hana is enrolled in it, not in the unpublished one
    assert body["course_enrollments_created"] == 1
    hana = user_id("nw_student2")
    # her two Frontend Fundamentals courses (seed) plus the one published Applied ML course
    assert api.count(Enrollment, Enrollment.student_id == hana) == 3
    assert (
        api.count(TrackEnrollment, TrackEnrollment.student_id == hana, TrackEnrollment.track_id == AML) == 1
    )


def test_enroll_respects_track_capacity(api: Api) -> None:
    assert api.put(f"/tracks/{AML}", "nw_admin", json={"max_students": 3}).status_code == 200  # 2 enrolled
    body = enroll(api, AML, f"hana.sato@{NWD}", f"ben.carter@{NWD}").json()
    assert body["successful_enrollments"] == [f"hana.sato@{NWD}"]
    assert body["failed_enrollments"][0]["rule"] == "track_full"


def test_enroll_needs_a_published_track_and_a_bounded_list(make_api: Callable[..., Api]) -> None:
    api = make_api({"enrollment": {"max_emails_per_request": 2}})
    before = api.snapshot()
    assert_error(enroll(api, DLS, f"hana.sato@{NWD}"), 409, "track_not_published")
    too_many = enroll(api, AML, "a@x.example", "b@x.example", "c@x.example")
    assert_error(too_many, 422, "too_many_emails", "student_emails")
    assert_error(enroll(api, AML), 422, "too_short", "student_emails")
    assert_error(enroll(api, AML, "not-an-email"), 422, "value_error", "student_emails.0")
    assert api.snapshot() == before


def test_duplicate_copies_fields_and_courses_as_drafts(api: Api) -> None:
    first = api.post(f"/tracks/{PDA}/duplicate", "nw_admin")
    assert first.status_code == 201, first.text
    copy = first.json()
    assert copy["name"] == "Python for Data Analysis (Copy)" and copy["status"] == "draft"
    assert copy["difficulty_level"] == "beginner" and copy["course_count"] == 2
    assert copy["instructor_count"] == 0 and copy["enrollment_count"] == 0
    assert api.count(Course, Course.track_id == uuid.UUID(copy["id"]), Course.is_published.is_(True)) == 0
    second = api.post(f"/tracks/{PDA}/duplicate", "nw_admin", json={})
    assert second.json()["name"] == "Python for Data Analysis (Copy 2)"
    moved = api.post(
        f"/tracks/{PDA}/duplicate", "nw_admin", json={"project_id": str(WDB), "name": "Python Primer"}
    )
    assert moved.status_code == 201 and moved.json()["project_id"] == str(WDB)
    taken = api.post(f"/tracks/{PDA}/duplicate", "nw_admin", json={"name": "Applied Machine Learning"})
    assert_error(taken, 409, "track_name_taken", "name")
    foreign = api.post(
        f"/tracks/{PDA}/duplicate",
        "nw_admin",
        json={"project_id": str(project_id(BP, "cybersecurity-essentials"))},
    )
    assert_error(foreign, 404, "not_found", "project_id")


def test_track_visibility_follows_the_role(api: Api) -> None:
    def names(who: str) -> set[str]:
        return {t["name"] for t in api.get("/tracks/", who).json()["items"]}

    assert len(names("nw_admin")) == 6
    assert names("nw_instructor") == {"Python for Data Analysis", "Applied Machine Learning"}
    assert names("nw_student") == {"Python for Data Analysis", "Applied Machine Learning"}
    assert names("nw_student2") == {"Frontend Fundamentals"}
    assert len(names("site_admin")) == 9
    assert_error(api.get(f"/tracks/{DLS}", "nw_instructor"), 404, "not_found")
    assert_error(api.get(f"/tracks/{DLS}", "nw_student"), 404, "not_found")
    assert api.get(f"/tracks/{PDA}", "nw_student").status_code == 200
    by_project = api.get("/tracks/", "nw_admin", params={"project_id": str(WDB), "status": "active"}).json()
    assert {t["name"] for t in by_project["items"]} == {"Frontend Fundamentals", "Full-Stack JavaScript"}


def test_tracks_path_without_trailing_slash_is_served(api: Api) -> None:
    created = api.post("/tracks", "nw_admin", json={"name": "No Slash", "project_id": str(DSF)})
    assert created.status_code == 201, created.text
    assert api.get("/tracks", "nw_admin").json()["total"] == 7
