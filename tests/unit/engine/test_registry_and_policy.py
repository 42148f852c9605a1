"""What each role is offered, how a tool call is validated, and the policy checked before execution."""

from __future__ import annotations

from typing import Any

import pytest

from app.permissions.policy import check_organization, check_permission
from app.tools.base import ToolResult
from app.tools.catalog import default_registry
from app.tools.registry import ToolRegistry
from tests.unit.engine.helpers import ORG_A, ORG_B, user

REGISTRY = default_registry()
WRITES = {t.name for t in REGISTRY if t.risk == "write"}
DESTRUCTIVE = {t.name for t in REGISTRY if t.risk == "destructive"}


def offered(role: str, **kwargs: Any) -> dict[str, str]:
    return {t.name: t.risk for t in REGISTRY.offered_to(user(role, **kwargs))}


# --- offered tools ---------------------------------------------------------------------------
def test_a_student_is_offered_no_write_and_no_destructive_tool() -> None:
    tools = offered("student")
    assert set(tools.values()) == {"read"}
    assert {"search_docs", "list_courses", "find_course", "list_tracks", "find_track"} <= set(tools)
    assert "find_project" not in tools  # projects are for admins and instructors


def test_an_instructor_may_manage_courses_but_delete_nothing() -> None:
    tools = offered("instructor")
    assert not set(tools) & DESTRUCTIVE
    assert {"create_course", "publish_course"} <= set(tools)
    assert not {"create_track", "create_project", "onboard_instructor", "enroll_students_in_track"} & set(
        tools
    )


@pytest.mark.parametrize("role", ["organization_admin", "site_admin"])
def test_admins_are_offered_every_tool(role: str) -> None:
    assert set(offered(role)) == {t.name for t in REGISTRY}


def test_an_unknown_role_is_offered_only_the_tools_anyone_may_use() -> None:
    assert set(offered("guest")) == {"search_docs", "read_file"}


def test_the_platforms_own_permission_list_narrows_and_never_widens() -> None:
    narrowed = offered(
        "organization_admin", platform_permissions=frozenset({"create_tracks", "view_courses"})
    )
    assert "create_track" in narrowed
    assert "delete_project" not in narrowed and "create_project" not in narrowed
    widened = offered("student", platform_permissions=frozenset({"delete_projects", "create_tracks"}))
    assert set(widened.values()) == {"read"}


def test_specs_for_matches_offered_to() -> None:
    student = user("student")
    assert [s.name for s in REGISTRY.specs_for(student)] == [t.name for t in REGISTRY.offered_to(student)]


# --- validate ---------------------------------------------------------------------------------
def failure(result: object) -> str:
    assert isinstance(result, ToolResult), f"expected a failed result, got {result!r}"
    assert not result.ok and result.error
    return result.content


def test_an_unknown_tool_lists_the_tools_this_user_is_offered() -> None:
    text = failure(REGISTRY.validate(user("student"), "frobnicate", {}))
    assert "There is no tool named 'frobnicate'" in text
    for name in offered("student"):
        assert name in text
    assert "delete_project" not in text and "create_track" not in text


def test_invalid_arguments_name_the_field() -> None:
    admin = user("organization_admin")
    text = failure(
        REGISTRY.validate(
            admin, "create_track", {"project_id": "p", "name": "T", "difficulty_level": "expert"}
        )
    )
    assert "difficulty_level" in text and "'beginner', 'intermediate' or 'advanced'" in text
    assert "call create_track again" in text
    assert "name: Field required" in failure(REGISTRY.validate(admin, "create_track", {"project_id": "p"}))
    assert "colour: Extra inputs are not permitted" in failure(
        REGISTRY.validate(admin, "create_track", {"project_id": "p", "name": "T", "colour": "red"})
    )
    assert "student_emails.0" in failure(
        REGISTRY.validate(admin, "enroll_students_in_track", {"track_id": "t", "student_emails": ["nope"]})
    )


def test_an_input_error_from_the_provider_is_reported_before_validation() -> None:
    text = failure(
        REGISTRY.validate(user("organization_admin"), "create_track", {}, input_error="Expecting ',' at 12")
    )
    assert "not valid JSON (Expecting ',' at 12)" in text


def test_a_tool_the_role_may_not_use_is_refused_even_if_called() -> None:
    text = failure(REGISTRY.validate(user("student"), "delete_project", {"project_id": "p"}))
    assert "Your role (student) cannot use delete_project: it needs delete_projects" in text


def test_valid_arguments_are_parsed_and_stripped() -> None:
    checked = REGISTRY.validate(
        user("organization_admin"),
        "create_track",
        {"project_id": " p1 ", "name": " Python ", "duration_weeks": 6},
    )
    assert isinstance(checked, tuple)
    tool, args = checked
    assert tool.name == "create_track"
    assert args.model_dump()["project_id"] == "p1"
    assert args.model_dump()["name"] == "Python"
    assert args.model_dump()["difficulty_level"] == "beginner"


def test_two_tools_with_one_name_are_refused() -> None:
    tool = next(iter(REGISTRY))
    with pytest.raises(ValueError, match="two tools named"):
        ToolRegistry([tool, tool])


# --- policy -----------------------------------------------------------------------------------
def test_check_permission() -> None:
    assert check_permission(user("organization_admin"), "create_track", ("create_tracks",)).allowed
    assert check_permission(user("student"), "search_docs", ()).allowed
    assert check_permission(
        user("instructor"), "create_course", ("manage_courses", "manage_assigned_content")
    ).allowed
    denied = check_permission(user("instructor"), "delete_course", ("delete_courses",))
    assert not denied.allowed
    assert denied.reason == (
        "Your role (instructor) cannot use delete_course: it needs delete_courses. Ask an organization admin."
    )


def test_check_organization() -> None:
    admin = user("organization_admin", ORG_A)
    assert check_organization(admin, "project P", ORG_A).allowed
    other = check_organization(admin, "project Q", ORG_B)
    assert not other.allowed and other.reason == (
        "project Q is not in your organization, so the assistant will not act on it."
    )
    assert not check_organization(admin, "project ?", None).allowed
    assert not check_organization(user("organization_admin", None), "project P", ORG_A).allowed


def test_a_site_admin_may_act_in_any_organization() -> None:
    site = user("site_admin", None)
    assert check_organization(site, "project Q", ORG_B).allowed
    assert check_organization(site, "project ?", None).allowed
    assert check_permission(site, "delete_project", ("delete_projects",)).allowed


def test_organization_ids_compare_as_text() -> None:
    assert check_organization(user("organization_admin", "42"), "project", 42).allowed  # type: ignore[arg-type]
