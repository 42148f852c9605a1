"""Business rules of organization members and of assigning instructors to tracks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from sandbox.services.organization_management import members
from sandbox.services.organization_management.member_schemas import MemberInvite
from sandbox.shared.auth import Principal
from sandbox.shared.enums import EnrollmentStatus, MemberRole, Role
from sandbox.shared.errors import ApiError
from sandbox.shared.models import Enrollment, Membership, Organization, TrackInstructor, User
from sandbox.shared.permissions import Permission
from tests.sandbox.helpers import (
    BP,
    NW,
    NWD,
    PEOPLE,
    Api,
    assert_error,
    membership_id,
    org_id,
    project_id,
    track_id,
    user_id,
)

ORG = org_id(NW)
DSF = project_id(NW, "data-science-foundations")
PDA = track_id(NW, "Python for Data Analysis")
DLS = track_id(NW, "Deep Learning Systems")
FRONTEND = track_id(NW, "Frontend Fundamentals")


def invite(api: Api, email: str, role: str = "instructor", who: str = "nw_admin", **extra: Any) -> Any:
    body = {"user_email": email, "role_type": role, **extra}
    return api.post(f"/rbac/organizations/{ORG}/members", who, json=body)


def assign(api: Api, track: object, who: str = "nw_admin", **body: Any) -> Any:
    return api.post(f"/rbac/tracks/{track}/instructors", who, json=body)


def test_invited_instructor_is_pending_until_verified_then_assignable(api: Api) -> None:
    invited = invite(api, f"Priya.Shah@{NWD}", full_name="Priya Shah", project_ids=[str(DSF)])
    assert invited.status_code == 201, invited.text
    body = invited.json()
    assert body["email"] == f"priya.shah@{NWD}" and body["status"] == "pending"
    assert body["email_verified"] is False and body["project_ids"] == [str(DSF)]
    assert body["verification_token"] and "teach_tracks" in body["permissions"]
    pending = assign(api, PDA, instructor_email=f"priya.shah@{NWD}")
    assert_error(pending, 409, "instructor_email_not_verified")
    verified = api.post(
        "/auth/verify-email", json={"token": body["verification_token"], "password": "Long-pass-1"}
    )
    assert verified.status_code == 200, verified.text
    assigned = assign(api, PDA, instructor_id=body["user_id"])
    assert assigned.status_code == 201, assigned.text
    assert assigned.json()["email"] == f"priya.shah@{NWD}"
    listed = api.get(f"/rbac/tracks/{PDA}/instructors", "nw_admin").json()
    assert {i["email"] for i in listed["items"]} == {f"daniel.kim@{NWD}", f"priya.shah@{NWD}"}


def test_invites_refuse_existing_members(api: Api) -> None:
    before = api.snapshot()
    assert_error(invite(api, PEOPLE["nw_instructor"]), 409, "already_member", "user_email")
    foreign_project = invite(api, f"x@{NWD}", project_ids=[str(project_id(BP, "cybersecurity-essentials"))])
    assert_error(foreign_project, 404, "not_found", "project_ids")
    assert_error(invite(api, f"x@{NWD}", role="site_admin"), 422, "enum", "role_type")
    assert_error(invite(api, f"x@{NWD}", role="student", extra="x"), 422, "extra_forbidden", "extra")
    assert api.snapshot() == before


def test_member_limit_per_organization(make_api: Callable[..., Api]) -> None:
    api = make_api({"organizations": {"max_members_per_org": 13}})  # Northwind has 13 members
    assert_error(invite(api, f"one.more@{NWD}"), 409, "organization_member_limit", None)


def test_adding_each_role_needs_its_own_permission(api: Api) -> None:
    """No seeded role holds only some of the three add permissions, so check the rule directly."""
    only_students = Principal(
        user_id("nw_admin"),
        PEOPLE["nw_admin"],
        Role.ORGANIZATION_ADMIN,
        ORG,
        frozenset({Permission.ADD_STUDENTS_TO_PROJECT}),
    )
    with api.session() as session:
        organization = session.get(Organization, ORG)
        assert organization is not None
        for role in (MemberRole.INSTRUCTOR, MemberRole.ORGANIZATION_ADMIN):
            with pytest.raises(ApiError) as refused:
                members.invite_member(
                    session,
                    api.context,
                    only_students,
                    organization,
                    MemberInvite(user_email="a@b.example", role_type=role),
                )
            assert refused.value.status_code == 403
            assert str(members.ADD_PERMISSION[role]) in refused.value.detail
        membership, token = members.invite_member(
            session,
            api.context,
            only_students,
            organization,
            MemberInvite(user_email="new.student@b.example", role_type=MemberRole.STUDENT),
        )
        assert membership.role_type == "student" and token


def test_removing_a_student_deactivates_and_cancels_enrollments(api: Api) -> None:
    token = api.token("nw_student")
    removed = api.delete(f"/rbac/organizations/{ORG}/members/{membership_id('nw_student')}", "nw_admin")
    assert removed.status_code == 200, removed.text
    assert removed.json()["cascaded"]["enrollments_cancelled"] > 0
    aisha = user_id("nw_student")
    assert api.count(Membership, Membership.user_id == aisha) == 0
    assert api.scalar(select(User.is_active).where(User.id == aisha)) is False
    assert (
        api.count(Enrollment, Enrollment.student_id == aisha, Enrollment.status == EnrollmentStatus.ACTIVE)
        == 0
    )
    assert_error(api.get("/users/me", headers={"Authorization": f"Bearer {token}"}), 401, "account_inactive")
    login = api.post("/auth/login", json={"email": PEOPLE["nw_student"], "password": "Student#2024"})
    assert_error(login, 403, "account_inactive")
    again = invite(api, PEOPLE["nw_student"], role="student")  # a removed member can be invited back,
    assert again.status_code == 201 and again.json()["status"] == "pending"  # and consents again
    token = again.json()["verification_token"]
    assert api.post("/auth/verify-email", json={"token": token}).status_code == 200  # keeps the password
    relogin = api.post("/auth/login", json={"email": PEOPLE["nw_student"], "password": "Student#2024"})
    assert relogin.status_code == 200, relogin.text


def test_removing_an_instructor_drops_their_track_assignments(api: Api) -> None:
    removed = api.delete(f"/rbac/organizations/{ORG}/members/{membership_id('nw_instructor')}", "nw_admin")
    assert removed.json()["cascaded"]["track_assignments"] == 2
    assert api.count(TrackInstructor, TrackInstructor.user_id == user_id("nw_instructor")) == 0


def test_the_last_admin_and_oneself_cannot_be_removed(api: Api) -> None:
    own = api.delete(f"/rbac/organizations/{ORG}/members/{membership_id('nw_admin')}", "nw_admin")
    assert_error(own, 409, "cannot_remove_self")
    other = api.delete(f"/rbac/organizations/{ORG}/members/{membership_id('nw_admin2')}", "nw_admin")
    assert other.status_code == 200
    last = api.delete(f"/rbac/organizations/{ORG}/members/{membership_id('nw_admin')}", "site_admin")
    assert_error(last, 409, "last_organization_admin")
    brightpath = api.delete(
        f"/rbac/organizations/{org_id(BP)}/members/{membership_id('bp_admin')}", "site_admin"
    )
    assert_error(brightpath, 409, "last_organization_admin")


def test_list_members_filters_by_role_and_status(api: Api) -> None:
    pending = api.get(
        f"/rbac/organizations/{ORG}/members", "nw_instructor", params={"status": "pending"}
    ).json()
    assert [m["email"] for m in pending["items"]] == [PEOPLE["nw_unverified"]]
    students = api.get(
        f"/rbac/organizations/{ORG}/members", "nw_admin", params={"role_type": "student"}
    ).json()
    assert students["total"] == 8 and all(m["role_type"] == "student" for m in students["items"])
    paged = api.get(
        f"/rbac/organizations/{ORG}/members", "nw_admin", params={"limit": 5, "offset": 10}
    ).json()
    assert paged["total"] == 13 and len(paged["items"]) == 3 and paged["limit"] == 5


def test_assigning_instructors_checks_who_they_are(api: Api) -> None:
    before = api.snapshot()
    assert_error(assign(api, DLS), 422, "instructor_reference_required", "instructor_id")
    both = assign(
        api, DLS, instructor_id=str(user_id("nw_instructor")), instructor_email=PEOPLE["nw_instructor"]
    )
    assert_error(both, 422, "instructor_reference_required")
    assert_error(
        assign(api, DLS, instructor_email="ghost@x.example"), 404, "instructor_not_found", "instructor_email"
    )
    foreign = assign(api, DLS, instructor_email=PEOPLE["bp_instructor"])
    assert_error(foreign, 404, "instructor_not_found", "instructor_email")
    assert_error(assign(api, DLS, instructor_email=PEOPLE["nw_student"]), 422, "not_an_instructor")
    assert_error(
        assign(api, DLS, instructor_email=PEOPLE["nw_unverified"]), 409, "instructor_email_not_verified"
    )
    assert_error(
        assign(api, PDA, instructor_email=PEOPLE["nw_instructor"]), 409, "instructor_already_assigned"
    )
    assert api.snapshot() == before


def test_project_limited_instructors_teach_only_in_their_projects(api: Api) -> None:
    with api.session() as session:  # Liam (limited to Data Science Foundations) verifies by hand
        user = session.get(User, user_id("nw_unverified"))
        membership = session.get(Membership, membership_id("nw_unverified"))
        assert user is not None and membership is not None
        user.email_verified, membership.status = True, "active"
        session.commit()
    outside = assign(api, FRONTEND, instructor_email=PEOPLE["nw_unverified"])
    assert_error(outside, 409, "instructor_not_in_project")
    inside = assign(api, DLS, instructor_email=PEOPLE["nw_unverified"])
    assert inside.status_code == 201, inside.text


def test_inviting_an_address_that_cannot_join_answers_like_a_new_one(api: Api) -> None:
    """No account-existence oracle: another organization's member and a site admin look unknown."""
    shape = {
        "status",
        "email_verified",
        "role_type",
        "project_ids",
        "track_ids",
        "permissions",
        "accepted_at",
    }
    unknown = invite(api, f"nobody.yet@{NWD}", project_ids=[str(DSF)])
    assert unknown.status_code == 201
    expected = {k: v for k, v in unknown.json().items() if k in shape}
    before = api.snapshot()
    for email in (PEOPLE["bp_instructor"], PEOPLE["site_admin"], PEOPLE["bp_instructor"].upper()):
        answer = invite(api, email, project_ids=[str(DSF)])
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert set(body) == set(unknown.json())
        assert {k: v for k, v in body.items() if k in shape} == expected
        assert body["verification_token"] and body["email"] == email.lower()
        assert answer.headers.keys() == unknown.headers.keys()
    assert api.snapshot() == before  # nothing changed for them
    login = api.post("/auth/login", json={"email": PEOPLE["bp_instructor"], "password": "Instructor#2024"})
    assert login.status_code == 200  # their account is untouched
