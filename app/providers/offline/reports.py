"""How the offline planner words what a lookup returned: lists and the organization summary."""

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


def report(tool: str, result: ToolResultBlock) -> str:
    if result.is_error:
        return f"I could not get that: {result.content}"
    if tool == "organization_summary":
        try:
            data = json.loads(result.content)
        except ValueError:
            return result.content
        parts = []
        for key in ("projects", "tracks", "courses", "members", "enrollments"):
            block = data.get(key) or {}
            by = ", ".join(f"{n} {s}" for s, n in (block.get("by_status") or {}).items())
            parts.append(f"- {key.capitalize()}: {block.get('total', 0)}" + (f" ({by})" if by else ""))
        return "Your organization at a glance:\n" + "\n".join(parts)
    rows = rows_of(result.content)
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
