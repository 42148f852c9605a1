"""The offline planner: a deterministic stand-in for the LLM that speaks the same protocol.

It reads the conversation like a model would (the last user message, or the tool results it
asked for) and answers with text and tool calls, so the turn loop, the approvals, the permission
checks and the UIs work exactly as with Claude. Its memory between calls is the `state` it
returns with each answer (the request being filled in, the last proposal), which the loop hands
back next time.

A request is carried out in steps: read the intent and the values in the message; ask for what
is missing, every required value included (a track's level is asked, never assumed); refuse a
value the platform does not have and offer the ones it has; resolve names to ids with the find_*
lookups, taking only a resource whose name is the one the user gave (otherwise the candidates
are offered, never silently used); then call the write tool, which the loop turns into a pending
action for approval. A change to that proposal ("actually make it advanced", "call it X
instead", "no, in the other project") is proposed again with `replaces_action_id`, so the
earlier proposal can no longer be approved.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.providers.base import ModelRequest, TextBlock, ToolResultBlock, ToolUseBlock
from app.providers.offline import outcomes, proposals, slots
from app.providers.offline.answer import extractive_answer
from app.providers.offline.intents import QUESTION_START, Intent, detect, suggested_track_name
from app.providers.offline.phrases import LEVELS, describe, same_name
from app.providers.offline.reports import report, rows_of
from app.tools.base import REPLACES_KEY

# kind -> (lookup tool, lookup argument, id field, name field)
RESOLVE = {
    "project": ("find_project", "name", "id", "name"),
    "track": ("find_track", "name", "id", "name"),
    "course": ("find_course", "title", "id", "title"),
    "member": ("find_member", "name_or_email", "membership_id", "email"),
}
ALLOWED_LEVELS = ", ".join(LEVELS[:-1]) + f" or {LEVELS[-1]}"
QUESTIONS = {
    "name": "What should it be called?",
    "title": "What should the course be called?",
    "project": "Which project should this belong to?",
    "track": "Which track?",
    "course": "Which course?",
    "email": "What is their email address?",
    "emails": "Which students? Give me their email addresses.",
    "member": "Who? Give me their name or email.",
    "target": "Which one?",
    "level": f"Which level should it be: {ALLOWED_LEVELS}?",
}
# What each request needs before it can be proposed, in asking order ("?": optional).
NEEDS: dict[str, list[tuple[str, str]]] = {
    "create_track": [("name", "text"), ("project", "project"), ("level", "level")],
    "create_project": [("name", "text"), ("description", "description")],
    "create_course": [("title", "text"), ("track", "track?"), ("level", "level")],
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
COUNT_TOOL = "resource_counts"
SCOPED = {"count", "list_tracks", "list_courses"}  # reads within one project or track, resolved first
# argument of a write -> slot of the request, for an action the user edited in the panel
EDITED_SLOTS = {
    "difficulty_level": "level",
    "name": "name",
    "title": "title",
    "description": "description",
    "duration_weeks": "duration_weeks",
    "max_students": "max_students",
    "student_emails": "emails",
}
MIN_DESCRIPTION = 10
THANKS = re.compile(
    r"^\W*(?:thanks?|thank you|thx|cheers|great|perfect|ok(?:ay)?|cool|got it)\W*$", re.I
)  # the platform's minimum for a project description


@dataclass
class Reply:
    text: str = ""
    calls: list[ToolUseBlock] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    def content(self) -> tuple[TextBlock | ToolUseBlock, ...]:
        blocks: list[TextBlock | ToolUseBlock] = [TextBlock(self.text)] if self.text else []
        return (*blocks, *self.calls)


@dataclass(frozen=True)
class Env:
    """What one planner call knows besides its state: the tools offered, the organization's
    projects, the user's role and the retrieved passages."""

    offered: frozenset[str]
    projects: tuple[str, ...]
    role: str
    passages: tuple[Mapping[str, Any], ...]


def plan(request: ModelRequest) -> Reply:
    state = dict(request.metadata.get("provider_state") or {})
    user = request.metadata.get("user") or {}
    env = Env(
        frozenset(t.name for t in request.tools),
        tuple(str(p) for p in request.metadata.get("projects") or [] if p),
        str(user.get("role", "your role")).replace("_", " "),
        tuple(request.metadata.get("passages") or []),
    )
    last = request.messages[-1] if request.messages else None
    if last is None:
        return Reply("How can I help?", state={})
    results = [b for b in last.content if isinstance(b, ToolResultBlock)]
    texts = [b.text for b in last.content if isinstance(b, TextBlock)]
    message = texts[-1] if texts else ""
    decision = request.metadata.get("decision")
    if isinstance(decision, Mapping):  # the engine resumes with the user's decision on a proposal
        return _on_decision(state, decision)
    pending = state.get("pending") or {}
    if pending.get("kind") == "write":
        result = _result_for(pending, results)
        state = _after_proposal(state, result)
        if not message:
            if result is not None and result.is_error:  # checked before proposing: it would fail
                reason = re.sub(r"^Not proposed:\s*", "", result.content).rstrip(". ")
                text = f"\n\nBut the platform would refuse it, so nothing was proposed: {reason}."
                return Reply(text, state=_keep(state))
            return Reply("It is waiting for your approval.", state=_keep(state))
    elif results and pending:
        return _on_result(state, results, env)
    return _on_message(state, message, env)


def _keep(state: Mapping[str, Any]) -> dict[str, Any]:
    return {"last": state["last"]} if state.get("last") else {}


def _result_for(pending: Mapping[str, Any], results: Sequence[ToolResultBlock]) -> ToolResultBlock | None:
    return next((r for r in results if r.tool_use_id == pending.get("id")), None)


def _after_proposal(state: dict[str, Any], result: ToolResultBlock | None) -> dict[str, Any]:
    """Note the proposal's action id (and its decision, if the engine reports one) on `last`."""
    last = dict(state.get("last") or {})
    if result is None:
        return {"last": last} if last else {}
    if result.is_error:
        return {}
    payload = _json(result.content)
    action_id = payload.get("action_id") if isinstance(payload, dict) else None
    if not action_id:
        m = re.search(r"Proposed action ([0-9A-Za-z-]{8,64})", result.content)
        action_id = m.group(1) if m else None
    if action_id:
        last["action_id"] = str(action_id)
    if isinstance(payload, dict) and payload.get("decision") not in (None, "pending", "edited"):
        last["decided"] = str(payload["decision"])
    if isinstance(payload, dict) and payload.get("decision") == "edited" and last.get("slots"):
        edited = payload.get("arguments") or {}  # the user edited it in the panel: build on their values
        last["slots"] = {
            **last["slots"],
            **{slot: edited[arg] for arg, slot in EDITED_SLOTS.items() if edited.get(arg) not in (None, "")},
        }
    return {"last": last}


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _on_decision(state: Mapping[str, Any], payload: Mapping[str, Any]) -> Reply:
    last = dict(state.get("last") or {})
    text, over = outcomes.word(last, payload)
    if over:
        last["decided"] = str(payload.get("decision"))
    return Reply(text, state={"last": last} if last else {})


# --- a new user message ------------------------------------------------------------------------
def _on_message(state: dict[str, Any], text: str, env: Env) -> Reply:
    intent = detect(text, env.projects)
    frame = state.get("frame")
    last = state.get("last")
    if THANKS.match(text) and not frame:
        waiting = last and last.get("action_id") and not last.get("decided")
        extra = " The proposal waits for your decision in the panel." if waiting else ""
        return Reply(f"You're welcome.{extra}", state=_keep(state))
    if intent.name == "cancel":
        waiting = last and last.get("action_id") and not last.get("decided")
        extra = " The proposal already shown still waits in the panel: reject it there." if waiting else ""
        return Reply(f"OK, I dropped that request. Nothing was changed.{extra}", state=_keep(state))
    asking = intent.name == "question" and bool(QUESTION_START.match(text.strip()))
    if frame and intent.name == frame["intent"] and intent.slots.get(str(frame.get("awaiting"))):
        frame = None  # the same request again, complete this time: it starts over
        state = {k: v for k, v in state.items() if k != "frame"}
    if (
        frame
        and frame.get("awaiting")
        and not asking
        and (intent.name in ("unknown", "question", frame["intent"]) or _answers(frame, text, env))
    ):
        unclear = _unclear_choice(frame, text)
        if unclear:
            return _ask_reply(frame, unclear, state)
        _fill(frame, text, env, intent)
        return _advance(frame, env, state)
    if frame and intent.name in ("unknown", frame["intent"]):
        reading = slots.read(text, frame["intent"], env.projects)
        if reading:
            _apply(frame, reading)
            return _advance(frame, env, state)
    if (
        last
        and last.get("intent") in NEEDS
        and not last.get("decided")
        and (intent.name in ("unknown", "question", last["intent"]) or not intent.slots)
        and (
            slots.is_revision(text)
            or (intent.name == "unknown" and slots.read(text, last["intent"], env.projects))
        )
    ):
        return _revise(last, text, intent, env, state)
    if intent.name == "count" or (intent.name in SCOPED and intent.slots.get("scope")):
        frame = _new_frame(intent.name, intent)
        frame["kind"] = str(intent.slots.get("scope_kind") or "project")
        return _advance(frame, env, state)
    if intent.name in READS:
        return _read(intent, env, state)
    if intent.name in NEEDS:
        return _advance(_new_frame(intent.name, intent), env, state)
    question = str(intent.slots.get("text") or text)
    kept = {**_keep(state), "frame": frame} if frame and asking else _keep(state)  # answered, still asked
    return Reply(extractive_answer(question, env.passages), state=kept)


def _answers(frame: Mapping[str, Any], text: str, env: Env) -> bool:
    """A message that reads as a new request may still be the answer that was asked for ("in the
    Cloud Engineering Pathway project", "make it intermediate")."""
    reading = slots.read(text, frame["intent"], env.projects)  # values it states, not a bare answer
    return str(frame.get("awaiting")) in reading.values or (
        frame.get("awaiting") == "level" and reading.invalid_level is not None
    )


def _derive_description(values: dict[str, Any]) -> None:
    """A project's description from what the user said it covers (for whom, how long); without
    what it covers there is none yet, and it is asked."""
    if not values.get("covers"):
        return
    described = describe(values.get("covers"), values.get("audience"), values.get("duration_weeks"))
    if len(described) >= MIN_DESCRIPTION:
        values["description"] = described
        values["description_derived"] = True


def _unclear_choice(frame: Mapping[str, Any], text: str) -> str | None:
    """ "yes" when several candidates were offered (or "the third" of two): ask again, keep them."""
    offered = frame.get("candidates") or {}
    rows = offered.get("rows") or []
    if not rows or offered.get("slot") != frame.get("awaiting") or slots.pick(text, rows) is not None:
        return None
    if not (
        slots.AFFIRMATIVE.match(text) or re.search(r"\b(" + "|".join(slots.ORDINALS) + r")\b", text, re.I)
    ):
        return None
    names = ", ".join(f"{i + 1}. {r['name']}" for i, r in enumerate(rows))
    return f'Which one? {names}. Say "the first", "the second", ... or type its name.'


def _new_frame(name: str, intent: Intent) -> dict[str, Any]:
    values: dict[str, Any] = {
        k: v for k, v in intent.slots.items() if v not in (None, "", [], False) or k == "force"
    }
    frame: dict[str, Any] = {"intent": name, "slots": values, "ids": {}, "awaiting": None}
    invalid = values.pop("level_invalid", None)
    if invalid:
        frame["invalid_level"] = invalid
    if name == "create_project" and not values.get("description"):
        _derive_description(values)
    return frame


def _fill(frame: dict[str, Any], text: str, env: Env, intent: Intent) -> None:
    awaiting = frame.get("awaiting")
    offered = frame.get("candidates") or {}
    if awaiting and offered.get("slot") == awaiting:
        chosen = slots.pick(text, offered.get("rows") or [])
        if chosen is not None:
            frame["slots"][awaiting] = chosen["name"]
            frame["ids"][awaiting] = chosen["id"]
            if chosen.get("email"):
                frame["ids"]["member_email"] = chosen["email"]
            frame.pop("candidates", None)
            frame["awaiting"] = None
            return
    reading = slots.read(text, frame["intent"], env.projects, awaiting)
    if intent.name == frame["intent"]:  # "create an advanced track for Go": the intent's own values
        for key, value in intent.slots.items():
            if value and key in ("name", "subject", "level", "project", "track", "title", "emails", "email"):
                reading.values.setdefault(key, value)
    _apply(frame, reading)
    frame["awaiting"] = None


def _apply(frame: dict[str, Any], reading: slots.Reading) -> None:
    """Take the values a message gave; a changed name drops the id it had resolved to."""
    s, ids = frame["slots"], frame["ids"]
    for key, value in reading.values.items():
        if key == "subject" and s.get("name_given"):
            continue
        if s.get(key) != value:
            ids.pop(key, None)
            frame.pop("candidates", None)
        s[key] = value
        if key in ("name", "title") and frame["intent"] in slots.NAME_SLOT:
            s["name_given"] = True
    if reading.invalid_level:
        frame["invalid_level"] = reading.invalid_level
    elif "level" in reading.values:
        frame.pop("invalid_level", None)
    if reading.other:
        frame["other"] = reading.other
    if (
        frame["intent"] == "create_project"
        and {"covers", "audience", "duration_weeks"} & set(reading.values)
        and (s.get("description_derived") or not s.get("description"))
    ):
        _derive_description(s)
    if "description" in reading.values:
        s.pop("description_derived", None)  # their own words now
    if frame["intent"] == "create_track" and s.get("subject") and not s.get("name_given"):
        s["name"] = suggested_track_name(str(s["subject"]), s.get("level"))


# --- changing a proposal -----------------------------------------------------------------------
def _revise(last: Mapping[str, Any], text: str, intent: Intent, env: Env, state: Mapping[str, Any]) -> Reply:
    frame: dict[str, Any] = {
        "intent": last["intent"],
        "slots": copy.deepcopy(dict(last.get("slots") or {})),
        "ids": copy.deepcopy(dict(last.get("ids") or {})),
        "awaiting": None,
        "replaces": last.get("action_id"),
    }
    reading = slots.read(text, frame["intent"], env.projects, revising=True)
    if intent.name == frame["intent"]:
        for key, value in intent.slots.items():
            if value and key in ("name", "subject", "level", "project", "track", "title", "emails"):
                if key == "name" and not intent.slots.get("name_given") and key in reading.values:
                    continue
                reading.values.setdefault(key, value)
        if intent.slots.get("level_invalid"):
            reading.invalid_level = str(intent.slots["level_invalid"])
    adding = re.search(r"\b(?:also|too|as well|plus|in addition|another)\b", text, re.I)
    if adding and "emails" in reading.values and frame["slots"].get("emails"):
        reading.values["emails"] = list(dict.fromkeys([*frame["slots"]["emails"], *reading.values["emails"]]))
    if not reading:
        return Reply(
            f"What should I change in the proposal (to {last.get('summary')})? For example "
            '"make it advanced", "call it ... instead" or "in the other project".',
            state=_keep(state),
        )
    _apply(frame, reading)
    return _advance(frame, env, state)


# --- moving a request forward ------------------------------------------------------------------
def _advance(frame: dict[str, Any], env: Env, state: Mapping[str, Any]) -> Reply:
    intent = frame["intent"]
    tool = COUNT_TOOL if intent == "count" else intent
    if tool not in env.offered:
        return Reply(
            f"Your role ({env.role}) cannot do that here: the {tool.replace('_', ' ')} tool is not "
            "available to you. An organization admin can do it, or give you the permission.",
            state=_keep(state),
        )
    if frame.get("invalid_level"):
        word = frame.pop("invalid_level")
        frame["awaiting"] = "level"
        frame["slots"].pop("level", None)
        return _ask_reply(
            frame,
            f"'{word}' is not a level the platform has; it offers {ALLOWED_LEVELS}. Which one should it be?",
            state,
        )
    if frame.get("other"):
        other = _other(frame, env, state)
        if other is not None:
            return other
    needs = [("scope", frame.get("kind", "project"))] if intent in SCOPED else NEEDS[intent]
    for slot, kind in needs:
        optional = kind.endswith("?")
        kind = kind.rstrip("?")
        value = frame["slots"].get(slot)
        if (
            intent == "create_project"
            and slot == "description"
            and value
            and len(str(value)) < MIN_DESCRIPTION
        ):
            value = None
        if not value:
            if optional:
                continue
            return _ask(frame, slot, kind, env, state)
        if kind in RESOLVE and slot not in frame["ids"]:
            return _lookup(frame, slot, kind, str(value), env, state)
    if intent in SCOPED:
        return _scoped_read(frame, state)
    return _propose(frame, state)


def _other(frame: dict[str, Any], env: Env, state: Mapping[str, Any]) -> Reply | None:
    """ "no, in the other project": the one other project, or the question which."""
    kind = frame.pop("other")
    slot = slots.CONTAINER.get(frame["intent"], (kind, kind))[0]
    current = str(frame["slots"].get(slot) or "")
    if kind == "project" and env.projects:
        others = [p for p in env.projects if not same_name(p, current)]
        if len(others) == 1:
            frame["slots"][slot] = others[0]
            frame["ids"].pop(slot, None)
            return None
        frame["awaiting"] = slot
        return _ask_reply(
            frame,
            f"Which project instead of {current}? Your other projects: {', '.join(others[:12])}.",
            state,
        )
    frame["awaiting"] = slot
    return _ask_reply(frame, f"Which {kind} instead of {current}?", state)


def _ask_reply(frame: dict[str, Any], question: str, state: Mapping[str, Any]) -> Reply:
    return Reply(question, state={**_keep(state), "frame": frame})


def _ask(frame: dict[str, Any], slot: str, kind: str, env: Env, state: Mapping[str, Any]) -> Reply:
    frame["awaiting"] = slot
    s = frame["slots"]
    question = QUESTIONS.get(kind if kind in QUESTIONS else slot, f"What {slot}?")
    if kind == "project" and frame["intent"] == "create_track":
        name = s.get("name")
        question = (
            f"I'll create {'the' if not name else repr(name)} track. Which project should it belong to?"
        )
    elif kind == "level":
        thing = "track" if frame["intent"] == "create_track" else "course"
        name = s.get("name") or s.get("title")
        question = f"Which level should the {thing}{f' {name!r}' if name else ''} be: {ALLOWED_LEVELS}?"
    elif kind == "description":
        question = (
            f"What will {s.get('name')!r} cover, and for whom (and for how long, if you know)? "
            "One sentence is enough: it becomes the project's description."
        )
    elif frame["intent"] in SCOPED:
        question = f"Which {kind}?"
    if kind == "project" and env.projects:
        question += f" Your projects: {', '.join(env.projects[:12])}."
    return _ask_reply(frame, question, state)


def _lookup(
    frame: dict[str, Any], slot: str, kind: str, value: str, env: Env, state: Mapping[str, Any]
) -> Reply:
    tool, arg, _, _ = RESOLVE[kind]
    if tool not in env.offered:
        return Reply(
            f"I cannot look up {kind}s with your role, so I cannot do this request.", state=_keep(state)
        )
    if kind == "member" and "@" in value and frame["intent"] == "assign_instructor_to_track":
        frame["ids"][slot] = value  # the platform takes the instructor's email directly
        frame["ids"]["member_email"] = value
        return _advance(frame, env, state)
    call = ToolUseBlock(_call_id(), tool, {arg: value})
    pending = {"id": call.id, "kind": "lookup", "slot": slot, "lookup": kind}
    return Reply(calls=[call], state={**_keep(state), "frame": frame, "pending": pending})


def _on_result(state: dict[str, Any], results: list[ToolResultBlock], env: Env) -> Reply:
    pending = state["pending"]
    result = _result_for(pending, results) or results[0]
    frame = state.get("frame")
    if pending.get("kind") == "report":
        return Reply(
            report(pending["tool"], result, pending.get("what"), pending.get("name")), state=_keep(state)
        )
    if frame is None:
        return Reply("I lost track of that request; please ask again.", state=_keep(state))
    if result.is_error:
        return Reply(f"I could not look that up: {result.content}", state=_keep(state))
    slot, kind = pending["slot"], pending["lookup"]
    _, _, id_field, name_field = RESOLVE[kind]
    rows = rows_of(result.content)
    wanted = str(frame["slots"].get(slot, ""))
    exact = [r for r in rows if _is_named(r, kind, wanted, name_field)]
    if len(exact) == 1:
        choice = exact[0]
        frame["ids"][slot] = str(choice.get(id_field))
        frame["slots"][slot] = str(choice.get(name_field) or wanted)
        if kind == "member":
            frame["ids"]["member_email"] = str(choice.get("email", ""))
        frame.pop("candidates", None)
        return _advance(frame, env, state)
    if not exact and frame["intent"] == "count" and slot == "scope":
        tried = [*frame.get("tried", []), kind]
        untried = [k for k in ("project", "track", "course") if k not in tried]
        if untried:  # "how many courses are in Frontend Fundamentals": not a project, maybe a track
            frame["tried"], frame["kind"] = tried, untried[0]
            return _lookup(frame, slot, untried[0], wanted, env, state)
    frame["awaiting"] = slot
    offered = exact or rows[:5]
    frame["candidates"] = {
        "slot": slot,
        "rows": [
            {"id": str(r.get(id_field)), "name": str(r.get(name_field)), "email": str(r.get("email") or "")}
            for r in offered
        ],
    }
    if exact:
        listed = "; ".join(_label(r, name_field) for r in exact)
        text = f"Several {kind}s are named {wanted!r}: {listed}. Which one (the first, the second, ...)?"
    elif rows:
        names = ", ".join(repr(str(r.get(name_field))) for r in offered)
        choose = "Is that the one you mean?" if len(offered) == 1 else "Which one did you mean?"
        text = (
            f"There is no {kind} named {wanted!r}. The closest: {names}. {choose} "
            "(Or give me the exact name.) Nothing has been prepared yet."
        )
    else:
        text = f"{result.content} Which {kind} did you mean?"
    return _ask_reply(frame, text, {k: v for k, v in state.items() if k != "pending"})


def _is_named(row: Mapping[str, Any], kind: str, wanted: str, name_field: str) -> bool:
    if kind == "member":
        return same_name(str(row.get("email", "")), wanted) or same_name(
            str(row.get("full_name", "")), wanted
        )
    return same_name(str(row.get(name_field, "")), wanted)


def _label(row: Mapping[str, Any], name_field: str) -> str:
    extra = [str(row[k]) for k in ("status", "difficulty_level", "email") if row.get(k)]
    return f"{row.get(name_field)}" + (f" ({', '.join(extra)})" if extra else "")


def _propose(frame: dict[str, Any], state: Mapping[str, Any]) -> Reply:
    intent, s, ids = frame["intent"], frame["slots"], frame["ids"]
    args, summary = proposals.arguments(frame)
    replaces = frame.get("replaces")
    if replaces:
        args[REPLACES_KEY] = replaces
    call = ToolUseBlock(_call_id(), intent, args)
    destructive = intent.startswith("delete_") or intent == "remove_member"
    text = (
        f"I propose to {summary}."
        + (" It replaces the earlier proposal, which can no longer be approved." if replaces else "")
        + " Review the preview, then approve or reject it"
        + (" (this deletes data: you'll be asked to type its name)." if destructive else ".")
    )
    last = {"intent": intent, "slots": s, "ids": ids, "summary": summary}
    return Reply(text, [call], state={"pending": {"id": call.id, "kind": "write"}, "last": last})


# --- reads -------------------------------------------------------------------------------------
def _read(intent: Intent, env: Env, state: Mapping[str, Any]) -> Reply:
    tool = intent.name
    if tool not in env.offered:
        return Reply(f"Your role ({env.role}) cannot see that.", state=_keep(state))
    args: dict[str, Any] = {}
    if tool == "list_members" and intent.slots.get("role_type"):
        args["role_type"] = intent.slots["role_type"]
    call = ToolUseBlock(_call_id(), tool, args)
    pending = {"id": call.id, "kind": "report", "tool": tool, "what": intent.slots.get("what")}
    return Reply(calls=[call], state={**_keep(state), "pending": pending})


def _scoped_read(frame: Mapping[str, Any], state: Mapping[str, Any]) -> Reply:
    """A count or a list within the one project or track the user named (resolved by then)."""
    kind = str(frame.get("kind", "project"))
    name = str(frame["slots"].get("scope"))
    tool = COUNT_TOOL if frame["intent"] == "count" else str(frame["intent"])
    call = ToolUseBlock(_call_id(), tool, {f"{kind}_id": frame["ids"]["scope"]})
    pending = {
        "id": call.id,
        "kind": "report",
        "tool": tool,
        "what": frame["slots"].get("what"),
        "name": name,
    }
    return Reply(calls=[call], state={**_keep(state), "pending": pending})


def _call_id() -> str:
    return f"offline_{uuid.uuid4().hex[:12]}"


__all__ = ["Reply", "plan"]
