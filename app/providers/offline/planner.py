"""The offline planner: a deterministic stand-in for the LLM that speaks the same protocol.

It reads the conversation like a model would (the last user message, or the tool results it
asked for) and answers with text and tool calls, so the turn loop, the approvals, the permission
checks and the UIs work exactly as with Claude. Its memory between calls is the `state` it
returns with each answer (the request being filled in), which the loop hands back next time.

A request is carried out in steps: read the intent and the values in the message; ask for what
is missing ("Which project should this track belong to?"); resolve names to ids with the find_*
lookups; then call the write tool, which the loop turns into a pending action for approval.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from app.providers.base import ModelRequest, TextBlock, ToolResultBlock, ToolUseBlock
from app.providers.offline.answer import extractive_answer
from app.providers.offline.intents import LEVEL_WORD, LEVELS, Intent, detect, emails_in, level_of
from app.providers.offline.reports import report, rows_of

# intent -> (slot to resolve, lookup tool, lookup argument, id field, name field)
RESOLVE = {
    "project": ("find_project", "name", "id", "name"),
    "track": ("find_track", "name", "id", "name"),
    "course": ("find_course", "title", "id", "title"),
    "member": ("find_member", "name_or_email", "membership_id", "email"),
}
QUESTIONS = {
    "name": "What should it be called?",
    "project": "Which project should this belong to?",
    "track": "Which track?",
    "course": "Which course?",
    "email": "What is their email address?",
    "emails": "Which students? Give me their email addresses.",
    "member": "Who? Give me their name or email.",
    "target": "Which one?",
}
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
# What each write needs resolved before it can be proposed, in asking order.
NEEDS: dict[str, list[tuple[str, str]]] = {
    "create_track": [("name", "text"), ("project", "project")],
    "create_project": [("name", "text")],
    "create_course": [("title", "text"), ("track", "track?")],
    "onboard_instructor": [("email", "email"), ("project", "project?")],
    "assign_instructor_to_track": [("who", "member"), ("track", "track")],
    "enroll_students_in_track": [("emails", "emails"), ("track", "track")],
    "enroll_student_in_course": [("emails", "emails"), ("course", "course")],
    "publish_track": [("target", "track")],
    "publish_course": [("target", "course")],
    "publish_project": [("target", "project")],
    "delete_track": [("target", "track")],
    "delete_course": [("target", "course")],
    "delete_project": [("target", "project")],
    "remove_member": [("who", "member")],
}
READS = {"list_projects", "list_tracks", "list_courses", "list_members", "organization_summary"}


@dataclass
class Reply:
    text: str = ""
    calls: list[ToolUseBlock] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    def content(self) -> tuple[TextBlock | ToolUseBlock, ...]:
        blocks: list[TextBlock | ToolUseBlock] = [TextBlock(self.text)] if self.text else []
        return (*blocks, *self.calls)


def plan(request: ModelRequest) -> Reply:
    state = dict(request.metadata.get("provider_state") or {})
    offered = {t.name for t in request.tools}
    last = request.messages[-1] if request.messages else None
    if last is None:
        return Reply("How can I help?", state={})
    results = [b for b in last.content if isinstance(b, ToolResultBlock)]
    texts = [b.text for b in last.content if isinstance(b, TextBlock)]
    message = texts[-1] if texts else ""
    decision = request.metadata.get("decision")  # the user decided on a proposal (see deferred)
    if isinstance(decision, dict) and decision.get("decision") != "pending":
        return _on_outcome(state, decision)
    if results and state.get("pending"):
        return _on_result(state, results, offered, request)
    return _on_message(state, message, offered, request)


# --- a new user message ------------------------------------------------------------------------
def _on_message(state: dict[str, Any], text: str, offered: set[str], request: ModelRequest) -> Reply:
    intent = detect(text)
    frame = state.get("frame")
    if intent.name == "cancel":
        return Reply("OK, I dropped that request. Nothing was changed.", state={})
    if (frame and frame.get("awaiting") and intent.name in ("unknown", "question")) or (
        frame and frame.get("awaiting") and intent.name == frame.get("intent")
    ):
        _fill(frame, frame["awaiting"], text, intent)
        frame["awaiting"] = None
        return _advance(frame, offered, request)
    if (
        frame
        and intent.name == "unknown"
        and LEVEL_WORD.search(text)
        and frame.get("intent") == "create_track"
    ):
        frame["slots"]["level"] = level_of(text)
        return _advance(frame, offered, request)
    if intent.name in READS:
        return _read(intent, offered, request)
    if intent.name in NEEDS:
        frame = {
            "intent": intent.name,
            "slots": {k: v for k, v in intent.slots.items() if v},
            "ids": {},
            "awaiting": None,
        }
        return _advance(frame, offered, request)
    question = str(intent.slots.get("text") or text)
    passages = request.metadata.get("passages") or []
    return Reply(extractive_answer(question, passages), state={})


def _fill(frame: dict[str, Any], slot: str, text: str, intent: Intent) -> None:
    slots = frame["slots"]
    value = text.strip().strip(".!?\"'“”")
    if slot in ("emails",):
        found = emails_in(text)
        if found:
            slots["emails"] = found
        return
    if slot == "email":
        found = emails_in(text)
        if found:
            slots["email"] = found[0]
        return
    level = level_of(text)
    if level and frame["intent"] == "create_track" and slot != "name":
        slots["level"] = level
        value = LEVEL_WORD.sub("", value).strip()
    if value:
        slots[slot] = value
        frame["ids"].pop(slot, None)
        frame.pop("candidates", None)


# --- moving a request forward ------------------------------------------------------------------
def _advance(frame: dict[str, Any], offered: set[str], request: ModelRequest) -> Reply:
    intent = frame["intent"]
    if intent not in offered:
        return Reply(
            f"Your role ({_role(request)}) cannot do that here: the {intent.replace('_', ' ')} tool is not "
            "available to you. An organization admin can do it, or give you the permission.",
            state={},
        )
    for slot, kind in NEEDS[intent]:
        optional = kind.endswith("?")
        kind = kind.rstrip("?")
        value = frame["slots"].get(slot)
        if not value:
            if optional:
                continue
            return _ask(frame, slot, kind, request)
        if kind in RESOLVE and slot not in frame["ids"]:
            return _lookup(frame, slot, kind, str(value), offered)
    return _propose(frame)


def _ask(frame: dict[str, Any], slot: str, kind: str, request: ModelRequest) -> Reply:
    frame["awaiting"] = slot
    question = QUESTIONS.get(kind if kind in QUESTIONS else slot, f"What {slot}?")
    if kind == "project" and frame["intent"] == "create_track":
        name = frame["slots"].get("name")
        question = (
            f"I'll create {'the' if not name else repr(name)} track. Which project should it belong to?"
        )
    projects = request.metadata.get("projects") or []
    if kind == "project" and projects:
        question += f" Your projects: {', '.join(projects[:12])}."
    return Reply(question, state={"frame": frame})


def _lookup(frame: dict[str, Any], slot: str, kind: str, value: str, offered: set[str]) -> Reply:
    tool, arg, _, _ = RESOLVE[kind]
    if tool not in offered:
        return Reply(f"I cannot look up {kind}s with your role, so I cannot do this request.", state={})
    if kind == "member" and "@" in value and frame["intent"] == "assign_instructor_to_track":
        frame["ids"][slot] = value  # the platform takes the instructor's email directly
        return _advance_after_lookup(frame, offered)
    call = ToolUseBlock(_call_id(), tool, {arg: value})
    return Reply(calls=[call], state={"frame": frame, "pending": {"id": call.id, "slot": slot, "kind": kind}})


def _advance_after_lookup(frame: dict[str, Any], offered: set[str]) -> Reply:
    request = ModelRequest(system="", messages=[], metadata={})
    return _advance(frame, offered | {frame["intent"]}, request)


def _on_result(
    state: dict[str, Any], results: list[ToolResultBlock], offered: set[str], request: ModelRequest
) -> Reply:
    pending = state["pending"]
    result = next((r for r in results if r.tool_use_id == pending["id"]), results[0])
    frame = state.get("frame")
    if pending.get("kind") == "report":
        return Reply(report(pending["tool"], result), state={})
    if pending.get("kind") == "write":
        if result.is_error:
            return Reply(f"I could not propose that: {result.content}", state={})
        return Reply("It is waiting for your approval.", state={"last": pending.get("summary", {})})
    if frame is None:
        return Reply("I lost track of that request; please ask again.", state={})
    if result.is_error:
        return Reply(f"I could not look that up: {result.content}", state={})
    slot, kind = pending["slot"], pending["kind"]
    _, _, id_field, name_field = RESOLVE[kind]
    rows = rows_of(result.content)
    wanted = str(frame["slots"].get(slot, "")).lower()
    exact = [r for r in rows if str(r.get(name_field, "")).lower() == wanted]
    choice = exact[0] if len(exact) == 1 else (rows[0] if len(rows) == 1 else None)
    if choice is None:
        frame["awaiting"] = slot
        if rows:
            names = ", ".join(str(r.get(name_field)) for r in rows[:6])
            return Reply(
                f"I found several {kind}s matching {wanted!r}: {names}. Which one?", state={"frame": frame}
            )
        return Reply(f"{result.content} Which {kind} did you mean?", state={"frame": frame})
    frame["ids"][slot] = str(choice.get(id_field))
    frame["slots"][slot] = str(choice.get(name_field) or frame["slots"][slot])
    if kind == "member":
        frame["ids"]["member_email"] = str(choice.get("email", ""))
    return _advance(frame, offered, request)


def _propose(frame: dict[str, Any]) -> Reply:
    intent, s, ids = frame["intent"], frame["slots"], frame["ids"]
    args: dict[str, Any]
    if intent == "create_track":
        args = {
            "project_id": ids["project"],
            "name": s["name"],
            "difficulty_level": s.get("level") or "beginner",
        }
        for key in ("duration_weeks", "max_students"):
            if s.get(key):
                args[key] = s[key]
        summary = f"the {args['difficulty_level']} track '{s['name']}' in {s['project']}"
    elif intent == "create_project":
        args = {
            "name": s["name"],
            "description": f"{s['name']}: a learning project created with the AI assistant.",
        }
        if s.get("duration_weeks"):
            args["duration_weeks"] = s["duration_weeks"]
        summary = f"the project '{s['name']}'"
    elif intent == "create_course":
        args = {"title": s["title"], "difficulty_level": s.get("level") or "beginner"}
        if ids.get("track"):
            args["track_id"] = ids["track"]
        summary = f"the course '{s['title']}'" + (f" in {s['track']}" if s.get("track") else "")
    elif intent == "onboard_instructor":
        args = {"email": s["email"], "project_ids": [ids["project"]] if ids.get("project") else []}
        if s.get("full_name"):
            args["full_name"] = s["full_name"]
        summary = f"an invitation for {s['email']} as an instructor"
    elif intent == "assign_instructor_to_track":
        args = {"track_id": ids["track"], "instructor_email": ids.get("member_email") or ids["who"]}
        summary = f"assigning {args['instructor_email']} to {s['track']}"
    elif intent == "enroll_students_in_track":
        args = {"track_id": ids["track"], "student_emails": s["emails"]}
        summary = f"enrolling {len(s['emails'])} student(s) in {s['track']}"
    elif intent == "enroll_student_in_course":
        args = {"course_id": ids["course"], "student_email": s["emails"][0]}
        summary = f"enrolling {s['emails'][0]} in {s['course']}"
    elif intent.startswith(("publish_", "delete_")):
        entity = intent.split("_", 1)[1]
        args = {f"{entity}_id": ids["target"]}
        if intent == "delete_project" and s.get("force"):
            args["force"] = True
        verb = "publishing" if intent.startswith("publish_") else "deleting"
        summary = f"{verb} the {entity} '{s['target']}'"
    else:  # remove_member
        args = {"membership_id": ids["who"]}
        summary = f"removing {ids.get('member_email') or s['who']} from the organization"
    call = ToolUseBlock(_call_id(), intent, args)
    destructive = intent.startswith("delete_") or intent == "remove_member"
    text = f"I've prepared {summary}. Please review the preview and approve it" + (
        " (this deletes data: you'll be asked to type its name)." if destructive else "."
    )
    last = {"intent": intent, "slots": s, "summary": summary}
    return Reply(
        text, [call], state={"pending": {"id": call.id, "kind": "write", "summary": last}, "last": last}
    )


# --- reads and outcomes ------------------------------------------------------------------------
def _read(intent: Intent, offered: set[str], request: ModelRequest) -> Reply:
    tool = intent.name
    if tool not in offered:
        return Reply(f"Your role ({_role(request)}) cannot see that.", state={})
    args: dict[str, Any] = {}
    if tool == "list_members" and intent.slots.get("role_type"):
        args["role_type"] = intent.slots["role_type"]
    call = ToolUseBlock(_call_id(), tool, args)
    return Reply(calls=[call], state={"pending": {"id": call.id, "kind": "report", "tool": tool}})


def _on_outcome(state: dict[str, Any], decision: dict[str, Any]) -> Reply:
    last = state.get("last") or {}
    intent = last.get("intent", "")
    kind = decision.get("decision")
    result = str(decision.get("message") or "")
    if kind == "rejected":
        return Reply("OK, I didn't change anything. Tell me if you'd like it done differently.", state={})
    if kind == "failed":
        return Reply(f"That didn't work: {result or 'the platform refused it'}", state={})
    if kind != "executed":  # expired, or edited and waiting again
        return Reply(result, state={"last": last})
    s = last.get("slots") or {}
    if intent == "create_track":
        level = str(s.get("level") or "beginner").capitalize()
        done = f"✓ Created '{s.get('name')}' track ({level} level) in {s.get('project')} project."
    elif last.get("summary"):
        done = f"✓ Done: {last['summary']}. {result}".strip()
    else:
        done = f"✓ Done. {result}".strip()
    return Reply(f"{done} {NEXT_STEP.get(intent, '')}".strip(), state={"last": last})


def _role(request: ModelRequest) -> str:
    user = request.metadata.get("user") or {}
    return str(user.get("role", "your role")).replace("_", " ")


def _call_id() -> str:
    return f"offline_{uuid.uuid4().hex[:12]}"


__all__ = ["LEVELS", "Reply", "plan"]
