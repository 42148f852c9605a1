"""Read-only tools: search the docs and code, and look things up on the platform.

The find_* tools exist so the model (and the offline planner) can turn the names people use
("Data Science Foundations") into the ids the write tools need, always within the user's own
organization: every call goes out with the user's token.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any, Literal

from pydantic import Field

from app.tools.base import Tool, ToolContext, ToolInput, ToolResult
from indexing.file_lines import MAX_LINES as MAX_FILE_LINES
from indexing.file_lines import FileLinesError

Level = Literal["beginner", "intermediate", "advanced"]
PROJECT_VIEW = ("create_projects", "teach_tracks")
DEFAULT_FILE_LINES = 80  # read_file without an end_line
TRACK_VIEW = ("create_tracks", "teach_tracks", "access_assigned_tracks")


def org_of(ctx: ToolContext) -> str:
    if not ctx.user.organization_id:
        raise ValueError("your account belongs to no organization")
    return ctx.user.organization_id


def pick(row: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: row.get(k) for k in keys if k in row}


def best_matches(
    query: str, rows: Iterable[Mapping[str, Any]], key: str, limit: int = 5
) -> list[Mapping[str, Any]]:
    """Rows whose `key` best matches a name as a person would type it (case, partial words)."""
    q = " ".join(query.lower().split())
    scored = []
    for row in rows:
        name = " ".join(str(row.get(key, "")).lower().split())
        if not name:
            continue
        if name == q:
            score = 3.0
        elif name.startswith(q) or q.startswith(name):
            score = 2.0 + len(q) / max(len(name), 1) * 0.1
        elif q in name:
            score = 1.5
        else:
            words = set(q.split())
            overlap = len(words & set(name.split())) / max(len(words), 1)
            score = max(overlap, difflib.SequenceMatcher(None, q, name).ratio())
        if score >= 0.5:
            scored.append((score, row))
    scored.sort(key=lambda item: -item[0])
    return [row for _, row in scored[:limit]]


def same_name(a: object, b: object) -> bool:
    """Equal the way the platform compares names: case and spacing do not count."""
    return " ".join(str(a).split()).casefold() == " ".join(str(b).split()).casefold()


def flagged(rows: Iterable[Mapping[str, Any]], key: str, query: str, *keys: str) -> list[dict[str, Any]]:
    """The rows with `exact_match`: whether the name is the one asked for, or only a similar one
    (which must never be acted on without the user confirming it)."""
    return [{**pick(r, *keys), "exact_match": same_name(r.get(key, ""), query)} for r in rows]


# --- search ----------------------------------------------------------------------------------
class SearchDocs(ToolInput):
    query: str = Field(min_length=2, max_length=500, description="What to look for, in plain words")
    k: int = Field(5, ge=1, le=10, description="How many passages to return")


def search_docs(ctx: ToolContext, args: SearchDocs) -> ToolResult:
    if ctx.search is None:
        return ToolResult.failure("The documentation index is not available right now.")
    hits = ctx.search(args.query, args.k)
    if not hits:
        return ToolResult.success([], "No passage matched. Try other words.")
    lines = [f"[{h['citation']}] {h.get('symbol') or ''}\n{h['text'][:1200]}" for h in hits]
    return ToolResult.success(hits, "\n\n".join(lines))


class ReadFile(ToolInput):
    path: str = Field(
        min_length=1,
        max_length=500,
        description="A file path as search_docs cites it (e.g. services/x/api.py)",
    )
    start_line: int = Field(1, ge=1, description="First line to read (1-based)")
    end_line: int | None = Field(
        None, ge=1, description=f"Last line to read; at most {MAX_FILE_LINES} lines a call"
    )


def read_file(ctx: ToolContext, args: ReadFile) -> ToolResult:
    """More of a file than its retrieved passage: the lines around it, the rest of a procedure."""
    if ctx.read_file is None:
        return ToolResult.failure("The documentation index is not available right now.")
    end = args.end_line if args.end_line is not None else args.start_line + DEFAULT_FILE_LINES - 1
    try:
        found = ctx.read_file(args.path, args.start_line, end)
    except FileLinesError as exc:
        return ToolResult.failure(str(exc))
    notes = []
    if found.clipped:
        notes.append(f"only {MAX_FILE_LINES} lines a call; ask for line {found.end_line + 1} on")
    if found.changed_since_indexed:
        notes.append("the file changed since it was indexed")
    head = f"[{found.citation}] of {found.total_lines} lines" + (f" ({'; '.join(notes)})" if notes else "")
    data = {k: v for k, v in asdict(found).items() if k != "text"} | {"citation": found.citation}
    return ToolResult.success(data, f"{head}\n{found.text}")


# --- projects --------------------------------------------------------------------------------
class ListProjects(ToolInput):
    status: Literal["draft", "active", "completed", "archived"] | None = Field(
        None, description="Only this status"
    )


def list_projects(ctx: ToolContext, args: ListProjects) -> ToolResult:
    rows = ctx.platform.list_all(f"/organizations/{org_of(ctx)}/projects", status=args.status)
    data = [pick(r, "id", "name", "status", "track_count", "duration_weeks") for r in rows]
    return ToolResult.success(data)


class FindByName(ToolInput):
    name: str = Field(min_length=1, max_length=200, description="The name as the user said it")


def find_project(ctx: ToolContext, args: FindByName) -> ToolResult:
    rows = ctx.platform.list_all(f"/organizations/{org_of(ctx)}/projects")
    found = flagged(
        best_matches(args.name, rows, "name"), "name", args.name, "id", "name", "status", "track_count"
    )
    if not found:
        names = ", ".join(str(r["name"]) for r in rows[:20]) or "none yet"
        return ToolResult.success(
            [], f"No project matches {args.name!r}. Projects in your organization: {names}."
        )
    return ToolResult.success(found)


# --- tracks ----------------------------------------------------------------------------------
class ListTracks(ToolInput):
    project_id: str | None = Field(None, description="Only tracks of this project (id)")
    difficulty_level: Level | None = None
    status: Literal["draft", "active", "archived"] | None = None


def list_tracks(ctx: ToolContext, args: ListTracks) -> ToolResult:
    rows = ctx.platform.list_all(
        "/tracks/", project_id=args.project_id, difficulty_level=args.difficulty_level, status=args.status
    )
    keys = ("id", "name", "project_id", "difficulty_level", "status", "enrollment_count", "instructor_count")
    return ToolResult.success([pick(r, *keys) for r in rows])


class FindTrack(ToolInput):
    name: str = Field(min_length=1, max_length=200)
    project_id: str | None = Field(None, description="Search only this project's tracks")


def find_track(ctx: ToolContext, args: FindTrack) -> ToolResult:
    rows = ctx.platform.list_all("/tracks/", project_id=args.project_id)
    found = best_matches(args.name, rows, "name")
    keys = ("id", "name", "project_id", "difficulty_level", "status", "enrollment_count", "instructor_count")
    if not found:
        return ToolResult.success([], f"No track matches {args.name!r}.")
    return ToolResult.success(flagged(found, "name", args.name, *keys))


# --- courses ---------------------------------------------------------------------------------
class ListCourses(ToolInput):
    track_id: str | None = Field(None, description="Only courses of this track (id)")
    published_only: bool = False


def list_courses(ctx: ToolContext, args: ListCourses) -> ToolResult:
    rows = ctx.platform.list_all(
        "/courses",
        organization_id=ctx.user.organization_id,
        track_id=args.track_id,
        published_only=str(args.published_only).lower() if args.published_only else None,
    )
    keys = ("id", "title", "track_id", "difficulty_level", "is_published", "enrollment_count")
    return ToolResult.success([pick(r, *keys) for r in rows])


class FindCourse(ToolInput):
    title: str = Field(min_length=1, max_length=200)


def find_course(ctx: ToolContext, args: FindCourse) -> ToolResult:
    rows = ctx.platform.list_all("/courses", organization_id=ctx.user.organization_id)
    found = best_matches(args.title, rows, "title")
    if not found:
        return ToolResult.success([], f"No course matches {args.title!r}.")
    keys = ("id", "title", "track_id", "is_published", "instructor_id")
    return ToolResult.success(flagged(found, "title", args.title, *keys))


# --- members ---------------------------------------------------------------------------------
class ListMembers(ToolInput):
    role_type: Literal["organization_admin", "instructor", "student"] | None = None


def list_members(ctx: ToolContext, args: ListMembers) -> ToolResult:
    rows = ctx.platform.list_all(f"/rbac/organizations/{org_of(ctx)}/members", role_type=args.role_type)
    keys = ("membership_id", "user_id", "email", "full_name", "role_type", "status", "email_verified")
    return ToolResult.success([pick(r, *keys) for r in rows])


class FindMember(ToolInput):
    name_or_email: str = Field(min_length=1, max_length=200)


def find_member(ctx: ToolContext, args: FindMember) -> ToolResult:
    rows = ctx.platform.list_all(f"/rbac/organizations/{org_of(ctx)}/members")
    query = args.name_or_email.lower()
    exact = [r for r in rows if str(r.get("email", "")).lower() == query]
    found = exact or best_matches(args.name_or_email, rows, "full_name") or best_matches(query, rows, "email")
    keys = ("membership_id", "user_id", "email", "full_name", "role_type", "status", "email_verified")
    if not found:
        return ToolResult.success([], f"No member matches {args.name_or_email!r}.")
    return ToolResult.success(
        [
            {
                **pick(r, *keys),
                "exact_match": same_name(r.get("email", ""), query)
                or same_name(r.get("full_name", ""), query),
            }
            for r in found
        ]
    )


# --- analytics -------------------------------------------------------------------------------
class NoInput(ToolInput):
    pass


def organization_summary(ctx: ToolContext, args: NoInput) -> ToolResult:
    return ToolResult.success(ctx.platform.get(f"/analytics/organizations/{org_of(ctx)}/summary"))


class CourseId(ToolInput):
    course_id: str = Field(min_length=1, description="The course's id (find it with find_course)")


def course_summary(ctx: ToolContext, args: CourseId) -> ToolResult:
    return ToolResult.success(ctx.platform.get(f"/analytics/courses/{args.course_id}/summary"))


class CountIn(ToolInput):
    project_id: str | None = Field(None, description="Count within this project (find_project)")
    track_id: str | None = Field(None, description="Count within this track (find_track)")
    course_id: str | None = Field(None, description="Count within this course (find_course)")


def _by_status(rows: Iterable[Mapping[str, Any]], key: str = "status") -> dict[str, Any]:
    counts: dict[str, int] = {}
    total = 0
    for row in rows:
        value = row.get(key)
        label = ("published" if value else "unpublished") if isinstance(value, bool) else str(value)
        counts[label] = counts.get(label, 0) + 1
        total += 1
    return {"total": total, "by_status": counts}


def _sum(rows: Iterable[Mapping[str, Any]], key: str) -> int:
    return sum(int(r.get(key) or 0) for r in rows)


def resource_counts(ctx: ToolContext, args: CountIn) -> ToolResult:
    """What one project, track or course holds: "how many tracks does X have" is answered for X,
    not for the whole organization."""
    given = [
        (k, v)
        for k, v in (("project", args.project_id), ("track", args.track_id), ("course", args.course_id))
        if v
    ]
    if len(given) != 1:
        raise ValueError("give exactly one of project_id, track_id or course_id")
    kind, rid = given[0]
    if kind == "project":
        project = ctx.platform.get(f"/projects/{rid}")
        tracks = ctx.platform.list_all("/tracks/", project_id=rid)
        data: dict[str, Any] = {
            "scope": "project",
            "id": rid,
            "name": project.get("name"),
            "status": project.get("status"),
            "tracks": _by_status(tracks),
            "courses": _sum(tracks, "course_count"),
            "track_enrollments": _sum(tracks, "enrollment_count"),
            "instructor_assignments": _sum(tracks, "instructor_count"),
        }
    elif kind == "track":
        track = ctx.platform.get(f"/tracks/{rid}")
        courses = ctx.platform.list_all("/courses", organization_id=ctx.user.organization_id, track_id=rid)
        data = {
            "scope": "track",
            "id": rid,
            "name": track.get("name"),
            "status": track.get("status"),
            "courses": _by_status(courses, "is_published"),
            "track_enrollments": track.get("enrollment_count"),
            "instructors": track.get("instructor_count"),
        }
    else:
        course = ctx.platform.get(f"/courses/{rid}")
        data = {
            "scope": "course",
            "id": rid,
            "name": course.get("title"),
            "status": "published" if course.get("is_published") else "unpublished",
            "enrollments": course.get("enrollment_count"),
        }
    return ToolResult.success(data)


LOOKUP_TOOLS = [
    Tool(
        "search_docs",
        "Search the Course Creator Platform's code and documentation (API endpoints, data models, "
        "business rules, permissions, configuration). Returns passages with [path:lines] citations.",
        SearchDocs, "read", (), search_docs,
    ),
    Tool(
        "read_file",
        "Open lines of a file of the platform's code or docs that search_docs cited, when the passage "
        "is not enough (the decorator or permission check above it, the rest of a procedure, a caller). "
        "Returns numbered lines; cite them as [path:start-end].",
        ReadFile, "read", (), read_file,
    ),
    Tool("list_projects", "List the projects of the user's organization.", ListProjects, "read", PROJECT_VIEW, list_projects),
    Tool("find_project", "Find projects by (part of) their name; returns ids. A row with exact_match false only has a similar name: ask the user before acting on it.", FindByName, "read", PROJECT_VIEW, find_project),
    Tool("list_tracks", "List learning tracks, optionally of one project.", ListTracks, "read", TRACK_VIEW, list_tracks),
    Tool("find_track", "Find learning tracks by name; returns ids. A row with exact_match false only has a similar name: ask the user before acting on it.", FindTrack, "read", TRACK_VIEW, find_track),
    Tool("list_courses", "List the organization's courses.", ListCourses, "read", ("view_courses",), list_courses),
    Tool("find_course", "Find courses by title; returns ids. A row with exact_match false only has a similar title: ask the user before acting on it.", FindCourse, "read", ("view_courses",), find_course),
    Tool("list_members", "List members (admins, instructors, students) of the organization.", ListMembers, "read", ("view_instructors",), list_members),
    Tool("find_member", "Find a member by name or email; returns membership and user ids.", FindMember, "read", ("view_instructors",), find_member),
    Tool(
        "organization_summary",
        "Counts of the organization's projects, tracks, courses, members and enrollments by status.",
        NoInput, "read", ("view_student_progress",), organization_summary,
    ),
    Tool(
        "resource_counts",
        "Counts within ONE project, track or course (give exactly one id): a project's tracks by status, "
        "courses and enrollments; a track's courses, enrollments and instructors; a course's enrollments. "
        "Use it for 'how many ... does X have'; organization_summary is for the whole organization.",
        CountIn, "read", TRACK_VIEW, resource_counts,
    ),
    Tool(
        "course_summary",
        "Enrollment and activity summary of one course (progress, completion rate).",
        CourseId, "read", ("view_student_progress",), course_summary,
    ),
]  # fmt: skip
