"""How the offline planner words the user's decision on a proposal and what came of it.

The decision is read from structure, never by looking for words in a result: the engine hands
over the decision as a payload (`decision`: executed, failed, rejected, expired, edited, pending;
`result`: the executed tool's data), or, in the older protocol, as an app note whose grammar is
fixed ("... and it was executed. Result: ..." / "... but it failed: ..."). So "Enrolled 2
student(s); 0 failed." is a success, and an enrollment that enrolled nobody is not worded as one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

NEXT_STEP = {
    "create_track": "Would you like to add courses to this track, or assign an instructor to it?",
    "create_project": "Would you like to create a learning track in it?",
    "create_course": "Would you like to publish it, or enroll students?",
    "onboard_instructor": "They will get an email to verify their address; once verified you can assign them to a track.",
    "assign_instructor_to_track": "Would you like to enroll students in the track?",
    "enroll_students_in_track": "Would you like a summary of the track's enrollments?",
    "enroll_student_in_course": "Would you like to enroll more students?",
    "publish_track": "Students can now be enrolled in it.",
    "publish_course": "Would you like to enroll students?",
    "publish_project": "Would you like to add tracks to it?",
    "delete_project": "Anything else to tidy up?",
    "delete_track": "Anything else to tidy up?",
    "delete_course": "Anything else to tidy up?",
    "remove_member": "Anything else?",
}


def word(last: Mapping[str, Any], payload: Mapping[str, Any]) -> tuple[str, bool]:
    """The reply to a decision, and whether the request is over (not waiting any more)."""
    decision = str(payload.get("decision") or "")
    intent = str(last.get("intent") or "")
    if decision == "executed":
        text, worked = _executed(last, payload)
        return (f"{text} {NEXT_STEP.get(intent, '')}".strip() if worked else text), True
    if decision == "failed":
        reason = str(payload.get("reason") or payload.get("message") or "the platform refused it")
        retry = " You can approve it again: it will not be applied twice." if payload.get("retryable") else ""
        return f"That didn't work: {reason}{retry}", True
    if decision == "rejected":
        return "OK, I didn't change anything. Tell me if you'd like it done differently.", True
    if decision == "expired":
        return "That proposal was not approved in time (or was replaced); nothing was changed.", True
    if decision == "edited":
        return f"You changed it: {payload.get('preview')}. It waits for your approval.", False
    return "It is waiting for your approval.", False


def _executed(last: Mapping[str, Any], payload: Mapping[str, Any]) -> tuple[str, bool]:
    intent = str(last.get("intent") or "")
    s: Mapping[str, Any] = last.get("slots") or {}
    data = payload.get("result")
    message = str(payload.get("message") or "").strip()
    message = re.sub(r"^The user approved it.*?carried out:\s*", "", message)  # the engine's wording
    if intent == "create_track":
        level = str(s.get("level") or "").capitalize()
        return f"✓ Created '{s.get('name')}' track ({level} level) in {s.get('project')} project.", True
    if (
        intent == "enroll_students_in_track"
        and isinstance(data, Mapping)
        and "successful_enrollments" in data
    ):
        return _enrolled(s, data)
    if message:  # the tool's own account of what it did ("Published track 'X'.")
        return f"✓ {message}", True
    summary = last.get("summary")
    return (f"✓ Done: {summary}." if summary else "✓ Done."), True


def _enrolled(s: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[str, bool]:
    ok = list(data.get("successful_enrollments") or [])
    failed = [f for f in data.get("failed_enrollments") or [] if isinstance(f, Mapping)]
    total = len(ok) + len(failed)
    where = s.get("track") or "the track"
    head = (
        f"✓ Enrolled {len(ok)} of {total} student(s) in {where}."
        if ok
        else f"No student was enrolled in {where}."
    )
    if failed:
        head += " Not enrolled: " + "; ".join(
            f"{f.get('email')} ({f.get('detail') or f.get('rule')})" for f in failed[:10]
        )
        head += "."
    return head, bool(ok)
