"""Business rules of courses, enrollments and the analytics summaries."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from sandbox.shared.enums import EnrollmentStatus
from sandbox.shared.models import Course, Enrollment, Project
from tests.sandbox.helpers import BP, NW, NWD, PEOPLE, Api, assert_error, course_id, org_id, track_id, user_id

ORG = org_id(NW)
PDA = track_id(NW, "Python for Data Analysis")
FRONTEND = track_id(NW, "Frontend Fundamentals")
PBA = course_id(NW, "Python Basics for Analysts")
MET = course_id(NW, "Model Evaluation and Tuning")  # unpublished, no description, Daniel's
NNS = course_id(NW, "Neural Networks from Scratch")  # unpublished, nobody's
HTML = course_id(NW, "HTML and CSS Essentials")  # Sofia's


def create(api: Api, who: str = "nw_admin", **fields: Any) -> Any:
    return api.post("/courses", who, json={"title": "Visualizing Data", **fields})


def test_instructor_creates_owned_courses_only_in_tracks_they_teach(api: Api) -> None:
    own = create(api, "nw_instructor", track_id=str(PDA), description="Charts with matplotlib.", price=19.5)
    assert own.status_code == 201, own.text
    body = own.json()
    assert body["instructor_id"] == str(user_id("nw_instructor")) and body["is_published"] is False
    assert body["organization_id"] == str(ORG) and body["price"] == 19.5
    assert_error(create(api, "nw_instructor", track_id=str(FRONTEND)), 403, "not_assigned_to_track")
    by_admin = create(api, track_id=str(FRONTEND))
    assert by_admin.status_code == 201 and by_admin.json()["instructor_id"] is None


def test_course_organization_and_track_must_be_reachable(api: Api) -> None:
    before = api.count(Course)
    assert_error(create(api, organization_id=str(org_id(BP))), 404, "not_found", "organization_id")
    assert_error(
        create(api, track_id=str(track_id(BP, "Security Fundamentals"))), 404, "not_found", "track_id"
    )
    assert_error(create(api, "site_admin"), 422, "organization_required", "organization_id")
    assert create(api, "site_admin", organization_id=str(org_id(BP))).status_code == 201
    assert api.count(Course) == before + 1


def test_course_field_validation(api: Api) -> None:
    assert_error(create(api, price=-1), 422, "greater_than_equal", "price")
    assert_error(create(api, duration_unit="months"), 422, "enum", "duration_unit")
    assert_error(create(api, difficulty_level="expert"), 422, "enum", "difficulty_level")
    assert_error(create(api, title="ab"), 422, "string_too_short", "title")
    assert_error(create(api, owner="me"), 422, "extra_forbidden", "owner")


def test_instructors_edit_only_their_own_courses(api: Api) -> None:
    mine = api.put(f"/courses/{PBA}", "nw_instructor", json={"tags": ["python"], "estimated_duration": 4})
    assert mine.status_code == 200 and mine.json()["tags"] == ["python"]
    before = api.snapshot()
    theirs = api.put(f"/courses/{HTML}", "nw_instructor", json={"price": 1})
    assert_error(theirs, 403, "not_course_owner")
    assert_error(api.post(f"/courses/{HTML}/unpublish", "nw_instructor"), 403, "not_course_owner")
    assert api.snapshot() == before
    moved = api.put(f"/courses/{PBA}", "nw_instructor", json={"track_id": str(FRONTEND)})
    assert_error(moved, 403, "not_assigned_to_track")


def test_publishing_needs_a_description(api: Api) -> None:
    refused = api.post(f"/courses/{MET}/publish", "nw_instructor")
    assert_error(refused, 422, "publish_requires_description", "description")
    described = api.put(
        f"/courses/{MET}", "nw_instructor", json={"description": "Cross-validation and search."}
    )
    assert described.status_code == 200
    published = api.post(f"/courses/{MET}/publish", "nw_instructor")
    assert published.status_code == 200 and published.json()["is_published"] is True
    assert_error(api.post(f"/courses/{MET}/publish", "nw_admin"), 409, "invalid_status_transition")
    blank = api.put(f"/courses/{MET}", "nw_admin", json={"description": "   "})
    assert_error(blank, 422, "publish_requires_description", "description")
    assert api.post(f"/courses/{MET}/unpublish", "nw_admin").json()["is_published"] is False
    assert_error(api.post(f"/courses/{MET}/unpublish", "nw_admin"), 409, "invalid_status_transition")


def test_students_see_only_published_courses(api: Api) -> None:
    seen = {c["title"] for c in api.get("/courses", "nw_student").json()["items"]}
    assert "Model Evaluation and Tuning" not in seen and "Python Basics for Analysts" in seen
    assert len(seen) == 6
    assert_error(api.get(f"/courses/{MET}", "nw_student"), 404, "not_found")
    staff = api.get("/courses", "nw_instructor").json()
    assert staff["total"] == 8
    published = api.get("/courses", "nw_admin", params={"published_only": True, "track_id": str(PDA)}).json()
    assert {c["title"] for c in published["items"]} == {
        "Python Basics for Analysts",
        "Data Wrangling with pandas",
    }


def test_deleting_a_course_with_active_enrollments_needs_force(api: Api) -> None:
    before = api.snapshot()
    assert_error(api.delete(f"/courses/{PBA}", "nw_admin"), 409, "active_enrollments", "force")
    assert api.snapshot() == before
    forced = api.delete(f"/courses/{PBA}", "nw_admin", params={"force": "true"})
    assert forced.status_code == 200 and forced.json()["cascaded"] == {"enrollments": 4}
    assert api.count(Enrollment, Enrollment.course_id == PBA) == 0


def enroll(api: Api, email: str, course: uuid.UUID = PBA, who: str = "nw_admin") -> Any:
    return api.post("/enrollments", who, json={"student_email": email, "course_id": str(course)})


def test_enrollment_rules(api: Api) -> None:
    created = enroll(api, f"Hana.Sato@{NWD}")
    assert created.status_code == 201, created.text
    assert created.json()["student_email"] == f"hana.sato@{NWD}" and created.json()["status"] == "active"
    before = api.snapshot()
    assert_error(enroll(api, f"hana.sato@{NWD}"), 409, "already_enrolled", "student_email")
    assert_error(enroll(api, f"hana.sato@{NWD}", NNS), 409, "course_not_published", "course_id")
    assert_error(enroll(api, "ghost@nowhere.example"), 404, "student_not_found", "student_email")
    assert_error(enroll(api, PEOPLE["bp_student"]), 404, "student_not_found", "student_email")
    assert_error(enroll(api, PEOPLE["nw_instructor"]), 422, "not_a_student", "student_email")
    assert api.snapshot() == before


def test_a_cancelled_enrollment_can_be_renewed(api: Api) -> None:
    with api.session() as session:
        row = (
            session.query(Enrollment)
            .filter_by(course_id=PBA, student_id=user_id("nw_student2"))
            .one_or_none()
        )
        assert row is None
    enrollment_id = enroll(api, PEOPLE["nw_student2"]).json()["id"]
    with api.session() as session:
        row = session.get(Enrollment, uuid.UUID(enrollment_id))
        assert row is not None
        row.status = EnrollmentStatus.CANCELLED
        session.commit()
    renewed = enroll(api, PEOPLE["nw_student2"])
    assert renewed.status_code == 201 and renewed.json()["id"] == enrollment_id


def test_enrollment_lists_follow_the_role(api: Api) -> None:
    def students(who: str, **params: Any) -> set[str]:
        return {e["student_email"] for e in api.get("/enrollments", who, params=params).json()["items"]}

    assert students("nw_student") == {PEOPLE["nw_student"]}
    daniel = api.get("/enrollments", "nw_instructor").json()
    assert daniel["total"] == 10  # Python for Data Analysis: 2 courses x 4 students; Applied ML: 1 x 2
    assert PEOPLE["nw_student2"] not in students("nw_instructor")  # Hana is only in Sofia's track
    admin = api.get("/enrollments", "nw_admin", params={"course_id": str(PBA), "status": "completed"}).json()
    assert admin["total"] == 1


def test_organization_summary_counts_live_data(api: Api) -> None:
    summary = api.get(f"/analytics/organizations/{ORG}/summary", "nw_admin").json()
    assert summary["projects"] == {
        "total": 3,
        "by_status": {"draft": 1, "active": 2, "completed": 0, "archived": 0},
    }
    assert summary["tracks_by_difficulty_level"] == {"beginner": 2, "intermediate": 2, "advanced": 2}
    assert summary["courses"]["by_status"] == {"published": 6, "unpublished": 2}
    assert summary["members_by_role"] == {"organization_admin": 2, "instructor": 3, "student": 8}
    assert summary["members"]["by_status"] == {"pending": 1, "active": 12}
    org_courses = select(Course.id).where(Course.organization_id == ORG)
    assert (
        summary["enrollments"]["total"] == api.count(Enrollment, Enrollment.course_id.in_(org_courses)) == 19
    )
    api.post(
        f"/organizations/{ORG}/projects",
        "nw_admin",
        json={"name": "New One", "description": "Ten chars at least."},
    )
    after = api.get(f"/analytics/organizations/{ORG}/summary", "nw_instructor").json()
    assert after["projects"]["by_status"]["draft"] == 2 and after["projects"]["total"] == 4
    assert api.count(Project, Project.organization_id == ORG) == 4


def test_course_summary_reports_progress_and_activity(api: Api) -> None:
    api.put(f"/courses/{PBA}", "nw_admin", json={"price": 10})
    summary = api.get(f"/analytics/courses/{PBA}/summary", "nw_instructor").json()
    assert summary["enrollments"]["by_status"] == {"active": 3, "completed": 1, "cancelled": 0}
    assert summary["completion_rate"] == 0.25
    assert 0 < summary["average_progress_percent"] <= 100
    assert summary["new_enrollments_last_30_days"] == 4
    assert summary["activity"]["recent"][0]["action"] == "course.updated"
    assert summary["activity"]["last_activity_at"] is not None
    assert_error(api.get(f"/analytics/courses/{HTML}/summary", "nw_instructor"), 403, "not_course_instructor")
    assert api.get(f"/analytics/courses/{HTML}/summary", "nw_instructor2").status_code == 200
