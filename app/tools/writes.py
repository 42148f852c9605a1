"""Tools that change the platform. None runs when the model calls it: each becomes a pending
action with a preview the user approves first.

Each write has two parts. `plan` runs at proposal time (and again just before execution): it
looks up every resource the action touches, with the user's token, to write a preview in names
rather than ids and to tell the policy which organization each resource belongs to. `run` is the
HTTP call itself, sent with the action's idempotency key so a retry can never apply it twice.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import EmailStr, Field

from app.platform.errors import PlatformError
from app.tools.base import Change, Plan, Tool, ToolContext, ToolInput, ToolResult, created
from app.tools.lookups import Level, org_of


def _get(ctx: ToolContext, path: str) -> dict[str, Any]:
    data = ctx.platform.get(path)
    return data if isinstance(data, dict) else {}


def _project(ctx: ToolContext, project_id: str) -> dict[str, Any]:
    return _get(ctx, f"/projects/{project_id}")


def _track(ctx: ToolContext, track_id: str) -> dict[str, Any]:
    return _get(ctx, f"/tracks/{track_id}")


def _course(ctx: ToolContext, course_id: str) -> dict[str, Any]:
    return _get(ctx, f"/courses/{course_id}")


def _org_name(ctx: ToolContext) -> str:
    return str(_get(ctx, f"/organizations/{org_of(ctx)}").get("name", "your organization"))


def _count(target: str, what: str, before: Any, added: int, *, up_to: bool = False) -> Change:
    """A count that grows: before as the platform reports it, after by `added` (at most, if `up_to`)."""
    if not isinstance(before, int):
        return Change(target, what, None, f"+{added}")
    return Change(target, what, before, f"up to {before + added}" if up_to else before + added)


def _refuse_unless(ctx: ToolContext, condition: bool, reason: str) -> None:
    """A check made before proposing: what the platform would refuse is never proposed. Not made
    again at execution (see ToolContext.stage): the action itself may have changed what it checks."""
    if ctx.stage == "propose" and not condition:
        raise ValueError(reason)


def _members(ctx: ToolContext) -> dict[str, dict[str, Any]] | None:
    """The organization's members by email, or None when the user may not list them (then the
    platform alone checks who can be enrolled)."""
    if ctx.stage != "propose":
        return None
    try:
        rows = ctx.platform.list_all(f"/rbac/organizations/{org_of(ctx)}/members")
    except PlatformError as exc:
        if exc.status in (401, 403):
            return None
        raise
    return {str(r.get("email", "")).casefold(): r for r in rows if isinstance(r, dict)}


def _not_students(ctx: ToolContext, emails: list[str]) -> dict[str, str]:
    """Which emails the platform will refuse to enroll, and why (not a member, not a student)."""
    members = _members(ctx)
    if members is None:
        return {}
    problems: dict[str, str] = {}
    for email in emails:
        member = members.get(str(email).casefold())
        if member is None:
            problems[str(email)] = "no member with this email in your organization"
        elif member.get("role_type") != "student":
            role = str(member.get("role_type", "member")).replace("_", " ")
            problems[str(email)] = f"a{'n' if role[:1] in 'aeiou' else ''} {role}, not a student"
        elif member.get("status") not in (None, "active"):
            problems[str(email)] = f"membership is {member.get('status')}"
    return problems


def _named(rows: list[Any], key: str, name: str) -> dict[str, Any] | None:
    """The row whose `key` equals `name` the way the platform compares names (case, spacing)."""
    wanted = " ".join(name.split()).casefold()
    for row in rows:
        if isinstance(row, dict) and " ".join(str(row.get(key, "")).split()).casefold() == wanted:
            return row
    return None


def _created(kind: str, data: Any, name_key: str = "name") -> ToolResult:
    name = data.get(name_key) if isinstance(data, dict) else None
    return ToolResult.success(
        data, f"Created {kind} {name!r} (id {data.get('id') if isinstance(data, dict) else '?'})."
    )


# --- projects --------------------------------------------------------------------------------
class CreateProject(ToolInput):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=10, max_length=2000, description="10-2000 characters")
    duration_weeks: int | None = Field(None, ge=1, le=52)
    max_participants: int | None = Field(None, ge=1, le=10000)
    start_date: date | None = None
    end_date: date | None = None
    target_roles: list[str] = Field(default_factory=list, description="e.g. ['Data Analyst']")


def plan_create_project(ctx: ToolContext, a: CreateProject) -> Plan:
    weeks = f", {a.duration_weeks} weeks" if a.duration_weeks else ""
    org = _org_name(ctx)
    return Plan(
        f"Create project '{a.name}'{weeks} in {org}",
        scope=[("your organization", ctx.user.organization_id)],
        changes=created(f"new project in {org}", {**a.model_dump(mode="json"), "status": "draft"}),
    )


def run_create_project(ctx: ToolContext, a: CreateProject) -> ToolResult:
    body = a.model_dump(mode="json", exclude_none=True)
    data = ctx.platform.post(
        f"/organizations/{org_of(ctx)}/projects", body, idempotency_key=ctx.idempotency_key
    )
    return _created("project", data)


def existing_project(ctx: ToolContext, a: CreateProject) -> dict[str, Any] | None:
    return _named(ctx.platform.list_all(f"/organizations/{org_of(ctx)}/projects"), "name", a.name)


# --- tracks ----------------------------------------------------------------------------------
class CreateTrack(ToolInput):
    project_id: str = Field(min_length=1, description="Id of the project the track belongs to (find_project)")
    name: str = Field(min_length=1, max_length=200)
    difficulty_level: Level = "beginner"
    description: str = Field("", max_length=2000)
    duration_weeks: int | None = Field(None, ge=1, le=52)
    max_students: int | None = Field(None, ge=1, le=1000)
    target_audience: list[str] = Field(default_factory=list)
    prerequisites: list[str] = Field(default_factory=list)
    learning_objectives: list[str] = Field(default_factory=list)


def plan_create_track(ctx: ToolContext, a: CreateTrack) -> Plan:
    project = _project(ctx, a.project_id)
    name = project.get("name", a.project_id)
    values = {k: v for k, v in a.model_dump(mode="json").items() if k != "project_id"}
    return Plan(
        f"Create track '{a.name}' ({a.difficulty_level}) in project {name}",
        scope=[(f"project {name}", project.get("organization_id"))],
        details={"project_name": name},
        changes=[
            *created(f"new track in project {name}", {**values, "status": "draft"}),
            _count(f"project {name}", "tracks", project.get("track_count"), 1),
        ],
    )


def run_create_track(ctx: ToolContext, a: CreateTrack) -> ToolResult:
    data = ctx.platform.post(
        "/tracks/", a.model_dump(mode="json", exclude_none=True), idempotency_key=ctx.idempotency_key
    )
    return _created("track", data)


def existing_track(ctx: ToolContext, a: CreateTrack) -> dict[str, Any] | None:
    return _named(ctx.platform.list_all("/tracks/", project_id=a.project_id), "name", a.name)


class TrackRef(ToolInput):
    track_id: str = Field(min_length=1, description="The track's id (find_track)")


def plan_publish_track(ctx: ToolContext, a: TrackRef) -> Plan:
    track = _track(ctx, a.track_id)
    status = track.get("status")
    _refuse_unless(
        ctx,
        status in (None, "draft"),
        f"track '{track.get('name', a.track_id)}' is {status}: only a draft track can be published",
    )
    return Plan(
        f"Publish track '{track.get('name', a.track_id)}' (students can then enroll)",
        scope=[(f"track {track.get('name')}", track.get("organization_id"))],
        changes=[Change(f"track '{track.get('name')}'", "status", track.get("status"), "published")],
    )


def run_publish_track(ctx: ToolContext, a: TrackRef) -> ToolResult:
    data = ctx.platform.post(f"/tracks/{a.track_id}/publish", idempotency_key=ctx.idempotency_key)
    return ToolResult.success(data, f"Published track {data.get('name')!r}.")


class EnrollInTrack(ToolInput):
    track_id: str = Field(min_length=1, description="The track's id (find_track)")
    student_emails: list[EmailStr] = Field(min_length=1, max_length=500)


def plan_enroll_track(ctx: ToolContext, a: EnrollInTrack) -> Plan:
    """Checked before proposing: the track is published, and each email is a student of the
    organization; the preview says which emails will fail and why (and refuses if all would)."""
    track = _track(ctx, a.track_id)
    name = track.get("name", a.track_id)
    status = track.get("status")
    _refuse_unless(
        ctx,
        status in (None, "active"),
        f"track '{name}' is {status}: students can only be enrolled in a published track. "
        "Publish it first, then enroll them",
    )
    emails = [str(e) for e in a.student_emails]
    problems = _not_students(ctx, emails)
    _refuse_unless(
        ctx,
        len(problems) < len(emails),
        "none of these can be enrolled: " + "; ".join(f"{e} ({why})" for e, why in problems.items()),
    )
    able = len(emails) - len(problems)
    cap, enrolled = track.get("max_students"), track.get("enrollment_count")
    seats = cap - enrolled if isinstance(cap, int) and isinstance(enrolled, int) else None
    _refuse_unless(ctx, seats is None or seats > 0, f"track '{name}' is full ({cap} students)")
    shown = ", ".join(emails[:5]) + (f" and {len(emails) - 5} more" if len(emails) > 5 else "")
    fails = "; ".join(f"{e} ({why})" for e, why in problems.items())
    warning = f". Will fail: {fails}" if fails else ""
    if seats is not None and seats < able:
        warning += f". Only {seats} seat(s) left: the rest will fail (track full)"
    changes = [
        _count(
            f"track '{name}'", "students enrolled", enrolled, min(able, seats) if seats else able, up_to=True
        )
    ]
    changes.extend(
        Change(f"track '{name}'", f"enrollment of {e}", None, f"will fail: {why}")
        for e, why in problems.items()
    )
    return Plan(
        f"Enroll {len(emails)} student(s) in track '{name}': {shown}{warning}",
        scope=[(f"track {track.get('name')}", track.get("organization_id"))],
        changes=changes,
        details={"will_fail": problems},
    )


def run_enroll_track(ctx: ToolContext, a: EnrollInTrack) -> ToolResult:
    body = {"student_emails": [str(e) for e in a.student_emails]}
    data = ctx.platform.post(f"/tracks/{a.track_id}/enroll", body, idempotency_key=ctx.idempotency_key)
    ok = len(data.get("successful_enrollments", []))
    failed = data.get("failed_enrollments", [])
    why = "; ".join(f"{f.get('email')}: {f.get('detail')}" for f in failed[:5])
    total = ok + len(failed)
    text = f"Enrolled {ok} of {total} student(s)" + (f"; not enrolled: {why}" if why else "") + "."
    return ToolResult.success(data, text)


class AssignInstructor(ToolInput):
    track_id: str = Field(min_length=1, description="The track's id (find_track)")
    instructor_email: EmailStr


def plan_assign_instructor(ctx: ToolContext, a: AssignInstructor) -> Plan:
    """Checked before proposing: the person is an instructor of the organization who verified
    their email (the platform refuses anyone else)."""
    track = _track(ctx, a.track_id)
    members = _members(ctx)
    if members is not None:
        member = members.get(str(a.instructor_email).casefold())
        _refuse_unless(ctx, member is not None, f"{a.instructor_email} is not a member of your organization")
        assert member is not None
        role = str(member.get("role_type", "member")).replace("_", " ")
        _refuse_unless(ctx, role == "instructor", f"{a.instructor_email} is a {role}, not an instructor")
        _refuse_unless(
            ctx,
            member.get("email_verified") is not False,
            f"{a.instructor_email} has not verified their email yet; instructors can be assigned once verified",
        )
    return Plan(
        f"Assign instructor {a.instructor_email} to track '{track.get('name', a.track_id)}'",
        scope=[(f"track {track.get('name')}", track.get("organization_id"))],
        changes=[
            Change(f"track '{track.get('name')}'", f"instructor {a.instructor_email}", None, "assigned"),
            _count(f"track '{track.get('name')}'", "instructors", track.get("instructor_count"), 1),
        ],
    )


def run_assign_instructor(ctx: ToolContext, a: AssignInstructor) -> ToolResult:
    body = {"instructor_email": str(a.instructor_email)}
    data = ctx.platform.post(
        f"/rbac/tracks/{a.track_id}/instructors", body, idempotency_key=ctx.idempotency_key
    )
    return ToolResult.success(data, f"Assigned {a.instructor_email} to the track.")


# --- members ---------------------------------------------------------------------------------
class OnboardInstructor(ToolInput):
    email: EmailStr
    full_name: str | None = Field(None, min_length=1, max_length=200)
    project_ids: list[str] = Field(
        default_factory=list, max_length=50, description="Projects to give access to"
    )


def plan_onboard(ctx: ToolContext, a: OnboardInstructor) -> Plan:
    scope: list[tuple[str, str | None]] = [("your organization", ctx.user.organization_id)]
    names = []
    for pid in a.project_ids:
        project = _project(ctx, pid)
        names.append(str(project.get("name", pid)))
        scope.append((f"project {project.get('name')}", project.get("organization_id")))
    who = f"{a.full_name} <{a.email}>" if a.full_name else str(a.email)
    where = f" with access to {', '.join(names)}" if names else ""
    org = _org_name(ctx)
    changes = [Change(org, f"member {a.email}", None, "instructor (pending until they verify their email)")]
    changes.extend(Change(f"project {n}", f"access for {a.email}", None, "granted") for n in names)
    return Plan(
        f"Invite instructor {who} to {org}{where} (they verify their email to join)",
        scope=scope,
        changes=changes,
    )


def run_onboard(ctx: ToolContext, a: OnboardInstructor) -> ToolResult:
    body: dict[str, Any] = {
        "user_email": str(a.email),
        "role_type": "instructor",
        "project_ids": a.project_ids,
    }
    if a.full_name:
        body["full_name"] = a.full_name
    data = ctx.platform.post(
        f"/rbac/organizations/{org_of(ctx)}/members", body, idempotency_key=ctx.idempotency_key
    )
    data = {k: v for k, v in data.items() if k != "verification_token"} if isinstance(data, dict) else data
    return ToolResult.success(data, f"Invited {a.email} as an instructor; status {data.get('status')}.")


# --- courses and enrollments -----------------------------------------------------------------
class CreateCourse(ToolInput):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000, description="Needed before the course can be published")
    difficulty_level: Level = "beginner"
    category: str | None = Field(None, max_length=100)
    track_id: str | None = Field(None, description="Track the course belongs to (find_track)")
    estimated_duration: int | None = Field(None, ge=1, le=1000)
    duration_unit: str = Field("weeks", pattern="^(hours|days|weeks|months)$")
    price: float = Field(0.0, ge=0, le=100000)
    tags: list[str] = Field(default_factory=list)


def plan_create_course(ctx: ToolContext, a: CreateCourse) -> Plan:
    scope: list[tuple[str, str | None]] = [("your organization", ctx.user.organization_id)]
    where = ""
    if a.track_id:
        track = _track(ctx, a.track_id)
        where = f" in track '{track.get('name', a.track_id)}'"
        scope.append((f"track {track.get('name')}", track.get("organization_id")))
    values = {k: v for k, v in a.model_dump(mode="json").items() if k != "track_id"}
    return Plan(
        f"Create course '{a.title}' ({a.difficulty_level}){where}",
        scope=scope,
        changes=created(f"new course{where}", {**values, "published": False}),
    )


def run_create_course(ctx: ToolContext, a: CreateCourse) -> ToolResult:
    body = a.model_dump(mode="json", exclude_none=True)
    body["organization_id"] = ctx.user.organization_id
    data = ctx.platform.post("/courses", body, idempotency_key=ctx.idempotency_key)
    return _created("course", data, "title")


def existing_course(ctx: ToolContext, a: CreateCourse) -> dict[str, Any] | None:
    rows = ctx.platform.list_all("/courses", organization_id=ctx.user.organization_id, track_id=a.track_id)
    return _named(rows, "title", a.title)


class CourseRef(ToolInput):
    course_id: str = Field(min_length=1, description="The course's id (find_course)")


def plan_publish_course(ctx: ToolContext, a: CourseRef) -> Plan:
    """Checked before proposing: not published yet, has a description, and an instructor owns it."""
    course = _course(ctx, a.course_id)
    title = course.get("title", a.course_id)
    _refuse_unless(ctx, not course.get("is_published"), f"course '{title}' is already published")
    _refuse_unless(
        ctx,
        bool(str(course.get("description") or "").strip()),
        f"course '{title}' has no description, and the platform publishes a course only with one: "
        "add a description first",
    )
    _refuse_unless(
        ctx,
        ctx.user.can(("manage_courses",)) or str(course.get("instructor_id")) == str(ctx.user.user_id),
        f"instructors can only publish their own courses, and '{title}' is not yours: "
        "its instructor or an organization admin can publish it",
    )
    return Plan(
        f"Publish course '{course.get('title', a.course_id)}'",
        scope=[(f"course {course.get('title')}", course.get("organization_id"))],
        changes=[Change(f"course '{course.get('title')}'", "published", course.get("is_published"), True)],
    )


def run_publish_course(ctx: ToolContext, a: CourseRef) -> ToolResult:
    data = ctx.platform.post(f"/courses/{a.course_id}/publish", idempotency_key=ctx.idempotency_key)
    return ToolResult.success(data, f"Published course {data.get('title')!r}.")


class EnrollInCourse(ToolInput):
    course_id: str = Field(min_length=1, description="The course's id (find_course)")
    student_email: EmailStr


def plan_enroll_course(ctx: ToolContext, a: EnrollInCourse) -> Plan:
    """Checked before proposing: the course is published and the email is a student's."""
    course = _course(ctx, a.course_id)
    title = course.get("title", a.course_id)
    _refuse_unless(
        ctx,
        course.get("is_published") is not False,
        f"course '{title}' is not published: students can only be enrolled once it is. Publish it first",
    )
    problems = _not_students(ctx, [str(a.student_email)])
    _refuse_unless(
        ctx, not problems, "; ".join(f"{e} cannot be enrolled: {why}" for e, why in problems.items())
    )
    return Plan(
        f"Enroll {a.student_email} in course '{course.get('title', a.course_id)}'",
        scope=[(f"course {course.get('title')}", course.get("organization_id"))],
        changes=[
            Change(f"course '{course.get('title')}'", f"enrollment of {a.student_email}", None, "enrolled")
        ],
    )


def run_enroll_course(ctx: ToolContext, a: EnrollInCourse) -> ToolResult:
    body = {"student_email": str(a.student_email), "course_id": a.course_id}
    data = ctx.platform.post("/enrollments", body, idempotency_key=ctx.idempotency_key)
    return ToolResult.success(data, f"Enrolled {a.student_email}; enrollment status {data.get('status')}.")


class ProjectRef(ToolInput):
    project_id: str = Field(min_length=1, description="The project's id (find_project)")


def plan_publish_project(ctx: ToolContext, a: ProjectRef) -> Plan:
    project = _project(ctx, a.project_id)
    status = project.get("status")
    _refuse_unless(
        ctx,
        status in (None, "draft"),
        f"project '{project.get('name', a.project_id)}' is {status}: only a draft project can be published",
    )
    return Plan(
        f"Publish project '{project.get('name', a.project_id)}'",
        scope=[(f"project {project.get('name')}", project.get("organization_id"))],
        changes=[Change(f"project '{project.get('name')}'", "status", project.get("status"), "active")],
    )


def run_publish_project(ctx: ToolContext, a: ProjectRef) -> ToolResult:
    data = ctx.platform.post(f"/projects/{a.project_id}/publish", idempotency_key=ctx.idempotency_key)
    return ToolResult.success(data, f"Published project {data.get('name')!r}.")


MANAGE_COURSES = ("manage_courses", "manage_assigned_content")

WRITE_TOOLS = [
    Tool("create_project", "Create a project in the user's organization.", CreateProject, "write", ("create_projects",), run_create_project, plan_create_project, find_existing=existing_project),
    Tool("create_track", "Create a learning track in a project.", CreateTrack, "write", ("create_tracks",), run_create_track, plan_create_track, find_existing=existing_track),
    Tool("publish_track", "Publish a draft track so students can enroll.", TrackRef, "write", ("create_tracks",), run_publish_track, plan_publish_track, repeatable=True),
    Tool("enroll_students_in_track", "Enroll students in a track by email (each gets the track's courses).", EnrollInTrack, "write", ("assign_students_to_tracks",), run_enroll_track, plan_enroll_track, repeatable=True),
    Tool("assign_instructor_to_track", "Assign a verified instructor of the organization to a track.", AssignInstructor, "write", ("assign_instructors_to_tracks",), run_assign_instructor, plan_assign_instructor, repeatable=True),
    Tool("onboard_instructor", "Invite an instructor to the organization (pending until they verify their email).", OnboardInstructor, "write", ("add_instructors_to_org",), run_onboard, plan_onboard, repeatable=True),
    Tool("create_course", "Create a course, optionally in a track.", CreateCourse, "write", MANAGE_COURSES, run_create_course, plan_create_course, find_existing=existing_course),
    Tool("publish_course", "Publish a course (it needs a description).", CourseRef, "write", MANAGE_COURSES, run_publish_course, plan_publish_course, repeatable=True),
    Tool("enroll_student_in_course", "Enroll one student in one course by email.", EnrollInCourse, "write", ("assign_students_to_tracks",), run_enroll_course, plan_enroll_course, repeatable=True),
    Tool("publish_project", "Publish a draft project.", ProjectRef, "write", ("create_projects",), run_publish_project, plan_publish_project, repeatable=True),
]  # fmt: skip
