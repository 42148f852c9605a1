"""Tools that delete. Besides approval, each asks the user to type the resource's name back, so a
delete is never one careless click, and the plan shows what else goes with it."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.tools.base import Change, Plan, Tool, ToolContext, ToolInput, ToolResult
from app.tools.lookups import org_of
from app.tools.writes import CourseRef, TrackRef, _course, _project, _track


class DeleteProject(ToolInput):
    project_id: str = Field(min_length=1, description="The project's id (find_project)")
    force: bool = Field(False, description="Also delete when students are enrolled (cascades)")


def plan_delete_project(ctx: ToolContext, a: DeleteProject) -> Plan:
    project = _project(ctx, a.project_id)
    name = str(project.get("name", a.project_id))
    tracks = project.get("track_count")
    extra = f" and its {tracks} track(s)" if tracks else ""
    force = " even if students are enrolled (force)" if a.force else ""
    return Plan(
        f"Delete project '{name}'{extra}{force}",
        scope=[(f"project {name}", project.get("organization_id"))],
        confirm_name=name,
        changes=[Change(f"project '{name}'", "exists", _state(project, "track_count", "tracks"), None)],
    )


def _state(resource: dict[str, Any], count_key: str, noun: str) -> str:
    """How a resource stands before it is deleted: its status and what goes with it."""
    parts = [str(resource.get("status") or "exists")]
    if resource.get(count_key):
        parts.append(f"{resource[count_key]} {noun}")
    return ", ".join(parts)


def run_delete_project(ctx: ToolContext, a: DeleteProject) -> ToolResult:
    path = f"/organizations/{org_of(ctx)}/projects/{a.project_id}"
    data = ctx.platform.delete(path, idempotency_key=ctx.idempotency_key, force=str(a.force).lower())
    return ToolResult.success(data, "Project deleted.")


def plan_delete_track(ctx: ToolContext, a: TrackRef) -> Plan:
    track = _track(ctx, a.track_id)
    name = str(track.get("name", a.track_id))
    enrolled = track.get("enrollment_count")
    extra = f" ({enrolled} enrollment(s))" if enrolled else ""
    return Plan(
        f"Delete track '{name}'{extra}",
        scope=[(f"track {name}", track.get("organization_id"))],
        confirm_name=name,
        changes=[
            Change(f"track '{name}'", "exists", _state(track, "enrollment_count", "enrollments"), None),
        ],
    )


def run_delete_track(ctx: ToolContext, a: TrackRef) -> ToolResult:
    data = ctx.platform.delete(f"/tracks/{a.track_id}", idempotency_key=ctx.idempotency_key)
    return ToolResult.success(data, "Track deleted.")


def plan_delete_course(ctx: ToolContext, a: CourseRef) -> Plan:
    course = _course(ctx, a.course_id)
    title = str(course.get("title", a.course_id))
    published = "published" if course.get("is_published") else "draft"
    return Plan(
        f"Delete course '{title}'",
        scope=[(f"course {title}", course.get("organization_id"))],
        confirm_name=title,
        changes=[Change(f"course '{title}'", "exists", published, None)],
    )


def run_delete_course(ctx: ToolContext, a: CourseRef) -> ToolResult:
    data = ctx.platform.delete(f"/courses/{a.course_id}", idempotency_key=ctx.idempotency_key)
    return ToolResult.success(data, "Course deleted.")


class RemoveMember(ToolInput):
    membership_id: str = Field(min_length=1, description="The membership's id (find_member)")


def plan_remove_member(ctx: ToolContext, a: RemoveMember) -> Plan:
    members = ctx.platform.list_all(f"/rbac/organizations/{org_of(ctx)}/members")
    member = next((m for m in members if str(m.get("membership_id")) == a.membership_id), None)
    if member is None:
        raise LookupError(f"no member with membership id {a.membership_id} in your organization")
    email = str(member.get("email"))
    role = str(member.get("role_type", "member")).replace("_", " ")
    return Plan(
        f"Remove {role} {member.get('full_name') or ''} <{email}> from the organization",
        scope=[(f"member {email}", ctx.user.organization_id)],
        confirm_name=email,
        changes=[
            Change("organization", f"member {email}", f"{role} ({member.get('status', 'active')})", None)
        ],
    )


def run_remove_member(ctx: ToolContext, a: RemoveMember) -> ToolResult:
    path = f"/rbac/organizations/{org_of(ctx)}/members/{a.membership_id}"
    data = ctx.platform.delete(path, idempotency_key=ctx.idempotency_key)
    return ToolResult.success(data, "Member removed.")


REMOVE_MEMBERS = ("remove_instructors_from_org", "remove_organization_admins", "remove_students_from_project")

DESTRUCTIVE_TOOLS = [
    Tool("delete_project", "Delete a project (409 if students are enrolled, unless force).", DeleteProject, "destructive", ("delete_projects",), run_delete_project, plan_delete_project, repeatable=True),
    Tool("delete_track", "Delete a learning track.", TrackRef, "destructive", ("delete_tracks",), run_delete_track, plan_delete_track, repeatable=True),
    Tool("delete_course", "Delete a course.", CourseRef, "destructive", ("delete_courses",), run_delete_course, plan_delete_course, repeatable=True),
    Tool("remove_member", "Remove a member from the organization.", RemoveMember, "destructive", REMOVE_MEMBERS, run_remove_member, plan_remove_member, repeatable=True),
]  # fmt: skip
