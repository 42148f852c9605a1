"""The write call a completed request becomes: the tool's arguments and a one-line summary.

Only values the user gave (or confirmed) go in: the level they chose, the description in their
words, the ids their names resolved to exactly. Nothing is filled in with a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.providers.offline.phrases import describe


def arguments(frame: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The write tool's arguments for a request whose every required value is known, and what it
    does in words ("create the beginner track 'Docker Basics' in Cloud Engineering Pathway")."""
    intent, s, ids = frame["intent"], frame["slots"], frame["ids"]
    args: dict[str, Any]
    if intent == "create_track":
        args = {"project_id": ids["project"], "name": s["name"], "difficulty_level": s["level"]}
        description = describe(s.get("covers"), s.get("audience"), None)
        if description:
            args["description"] = description
        if s.get("audience"):
            args["target_audience"] = [s["audience"]]
        for key in ("duration_weeks", "max_students"):
            if s.get(key):
                args[key] = s[key]
        summary = f"create the {s['level']} track '{s['name']}' in {s['project']}"
    elif intent == "create_project":
        description = str(s["description"])
        if s.get("audience") and str(s["audience"]).casefold() not in description.casefold():
            description = f"{description} For {s['audience']}."
        args = {"name": s["name"], "description": description}
        if s.get("duration_weeks"):
            args["duration_weeks"] = s["duration_weeks"]
        if s.get("audience") and len(str(s["audience"])) <= 100:
            args["target_roles"] = [s["audience"]]
        summary = f"create the project '{s['name']}'"
    elif intent == "create_course":
        args = {"title": s["title"], "difficulty_level": s["level"]}
        description = describe(s.get("covers"), s.get("audience"), None)
        if description:
            args["description"] = description
        if ids.get("track"):
            args["track_id"] = ids["track"]
        summary = f"create the {s['level']} course '{s['title']}'" + (
            f" in {s['track']}" if s.get("track") else ""
        )
    elif intent == "onboard_instructor":
        args = {"email": s["email"], "project_ids": [ids["project"]] if ids.get("project") else []}
        if s.get("full_name"):
            args["full_name"] = s["full_name"]
        summary = f"invite {s['email']} as an instructor"
    elif intent == "assign_instructor_to_track":
        args = {"track_id": ids["track"], "instructor_email": ids.get("member_email") or ids["who"]}
        summary = f"assign {args['instructor_email']} to {s['track']}"
    elif intent == "enroll_students_in_track":
        args = {"track_id": ids["track"], "student_emails": s["emails"]}
        summary = f"enroll {len(s['emails'])} student(s) in {s['track']}"
    elif intent == "enroll_student_in_course":
        args = {"course_id": ids["course"], "student_email": s["emails"][0]}
        summary = f"enroll {s['emails'][0]} in {s['course']}"
    elif intent.startswith(("publish_", "delete_")):
        entity = intent.split("_", 1)[1]
        args = {f"{entity}_id": ids["target"]}
        if intent == "delete_project" and s.get("force"):
            args["force"] = True
        verb = "publish" if intent.startswith("publish_") else "delete"
        summary = f"{verb} the {entity} '{s['target']}'"
    else:  # remove_member
        args = {"membership_id": ids["who"]}
        summary = f"remove {ids.get('member_email') or s['who']} from the organization"
    return args, summary
