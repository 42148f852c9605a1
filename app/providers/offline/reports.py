"""How the offline planner words what a lookup returned: lists, counts and the organization summary.

A count is answered at the scope it was asked for: "how many tracks does Data Science Foundations
have" from that project's own counts (resource_counts), "how many tracks are there?" from the
organization's summary, and only the figure asked for, not the whole overview.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from app.providers.base import ToolResultBlock


def rows_of(content: str) -> list[Mapping[str, Any]]:
    try:
        data = json.loads(content)
    except ValueError:
        return []
    return [r for r in data if isinstance(r, Mapping)] if isinstance(data, list) else []


def _object(content: str) -> Mapping[str, Any] | None:
    try:
        data = json.loads(content)
    except ValueError:
        return None
    return data if isinstance(data, Mapping) else None


def _statuses(block: Any) -> str:
    by = (block or {}).get("by_status") or {} if isinstance(block, Mapping) else {}
    return ", ".join(f"{n} {s}" for s, n in by.items() if n)


def _figure(n: Any, noun: str, detail: str = "") -> str:
    count = int(n or 0)
    plural = noun if count == 1 else (noun[:-1] + "ies" if noun.endswith("y") else noun + "s")
    return f"{count} {plural}" + (f" ({detail})" if detail else "")


def report(tool: str, result: ToolResultBlock, what: str | None = None, name: str | None = None) -> str:
    if result.is_error:
        return f"I could not get that: {result.content}"
    if tool == "organization_summary":
        data = _object(result.content)
        if data is None:
            return result.content
        return _organization(data, what)
    if tool == "resource_counts":
        data = _object(result.content)
        if data is None:
            return result.content
        return _scoped(data, what, name)
    return _listing(tool, rows_of(result.content))


def _organization(data: Mapping[str, Any], what: str | None) -> str:
    block = {k: data.get(k) or {} for k in ("projects", "tracks", "courses", "members", "enrollments")}
    roles = data.get("members_by_role") or {}
    if what in ("projects", "tracks", "courses"):
        noun = what[:-1]
        return f"Your organization has {_figure(block[what].get('total'), noun, _statuses(block[what]))}."
    if what == "students":
        return (
            f"Your organization has {_figure(roles.get('student'), 'student')}, with "
            f"{_figure(block['enrollments'].get('total'), 'course enrollment', _statuses(block['enrollments']))}."
        )
    if what == "instructors":
        return f"Your organization has {_figure(roles.get('instructor'), 'instructor')}."
    if what == "members":
        by_role = ", ".join(f"{n} {r.replace('_', ' ')}" for r, n in roles.items() if n)
        return f"Your organization has {_figure(block['members'].get('total'), 'member', by_role)}."
    parts = []
    for key, value in block.items():
        detail = _statuses(value)
        parts.append(f"- {key.capitalize()}: {value.get('total', 0)}" + (f" ({detail})" if detail else ""))
    return "Your organization at a glance:\n" + "\n".join(parts)


def _scoped(data: Mapping[str, Any], what: str | None, asked: str | None) -> str:
    scope = str(data.get("scope") or "project")
    name = data.get("name") or asked
    where = f"The {scope} {name!r}"
    if scope == "project":
        tracks = data.get("tracks") or {}
        figures = {
            "tracks": _figure(tracks.get("total"), "track", _statuses(tracks)),
            "courses": _figure(data.get("courses"), "course") + " in its tracks",
            "students": _figure(data.get("track_enrollments"), "track enrollment") + " across its tracks",
            "instructors": _figure(data.get("instructor_assignments"), "instructor assignment")
            + " across its tracks",
        }
    elif scope == "track":
        courses = data.get("courses") or {}
        figures = {
            "courses": _figure(courses.get("total"), "course", _statuses(courses)),
            "students": _figure(data.get("track_enrollments"), "enrolled student"),
            "instructors": _figure(data.get("instructors"), "instructor"),
        }
    else:
        figures = {"students": _figure(data.get("enrollments"), "enrollment")}
    if what in figures:
        return f"{where} has {figures[what]}."
    if what:
        return f"I can't count {what} within a {scope}. {where} has " + "; ".join(figures.values()) + "."
    return f"{where} has " + "; ".join(figures.values()) + "."


def _listing(tool: str, rows: list[Mapping[str, Any]]) -> str:
    if not rows:
        return "There are none yet."
    label = {
        "list_projects": "Projects",
        "list_tracks": "Tracks",
        "list_courses": "Courses",
        "list_members": "Members",
    }
    lines = []
    for r in rows[:25]:
        name = r.get("name") or r.get("title") or r.get("full_name") or r.get("email")
        extra = [
            str(r[k])
            for k in ("status", "difficulty_level", "role_type", "email")
            if r.get(k) and r.get(k) != name
        ]
        if "is_published" in r:
            extra.append("published" if r["is_published"] else "not published")
        lines.append(f"- {name}" + (f" ({', '.join(extra)})" if extra else ""))
    more = f"\n(and {len(rows) - 25} more)" if len(rows) > 25 else ""
    return f"{label.get(tool, 'Results')} ({len(rows)}):\n" + "\n".join(lines) + more
