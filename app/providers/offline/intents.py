"""What a message asks for, read with rules instead of a model.

The offline planner understands the catalog's requests the way an admin types them ("Create a
beginner track for Python", "invite jane@x.org as an instructor", "publish the SQL course",
"delete project Legacy") and pulls out the values it can see: names, levels, emails, numbers.
Anything it cannot see is left empty for the planner to ask about. A question ("how do I ...?")
is never mistaken for a request: it is answered from the documentation instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
QUOTED = re.compile(r"[\"“”'‘’]([^\"“”'‘’]{2,120})[\"“”'‘’]")
LEVELS = {
    "beginner": "beginner", "beginners": "beginner", "basic": "beginner", "introductory": "beginner",
    "intro": "beginner", "entry-level": "beginner", "intermediate": "intermediate", "advanced": "advanced",
    "expert": "advanced",
}  # fmt: skip
LEVEL_WORD = re.compile(r"\b(" + "|".join(sorted(LEVELS, key=len, reverse=True)) + r")\b", re.IGNORECASE)
WEEKS = re.compile(r"\b(\d{1,2})[- ]?weeks?\b", re.IGNORECASE)
STUDENTS_CAP = re.compile(
    r"\b(?:max(?:imum)?|up to|cap(?:ped)? at)?\s*(\d{1,4})\s+(?:students|learners|seats)\b", re.I
)
QUESTION_START = re.compile(
    r"^(how|what|why|when|where|which|who|is|are|does|do|did|can i|can we|could i|should|will|explain|"
    r"tell me about|describe)\b",
    re.IGNORECASE,
)
REQUEST_START = re.compile(r"^(please\s+)?(can|could|would|will) you\b|^please\b", re.IGNORECASE)
CANCEL = re.compile(r"^(cancel|never ?mind|forget it|stop|abort|no thanks?)\b", re.IGNORECASE)

ENTITY = {
    "track": re.compile(r"\b(learning )?tracks?\b", re.I),
    "project": re.compile(r"\bprojects?\b", re.I),
    "course": re.compile(r"\bcourses?\b", re.I),
    "member": re.compile(r"\b(members?|instructors?|teachers?|students?|admins?|users?|people)\b", re.I),
}
VERBS = {
    "create": re.compile(r"\b(create|add|make|set up|setup|build|start|new|open)\b", re.I),
    "publish": re.compile(r"\b(publish|go live|launch|make (it )?live|activate)\b", re.I),
    "delete": re.compile(r"\b(delete|remove|drop|get rid of|erase)\b", re.I),
    "enroll": re.compile(r"\b(enrol{1,2}|sign up|register)\b", re.I),
    "invite": re.compile(r"\b(invite|onboard|bring in|add)\b", re.I),
    "assign": re.compile(r"\b(assign|put|make .* teach|attach)\b", re.I),
    "list": re.compile(r"\b(list|show|see|display|what are|which|give me)\b", re.I),
    "summary": re.compile(r"\b(summary|overview|stats|statistics|how many|counts?|numbers)\b", re.I),
}


@dataclass
class Intent:
    """A request the planner can carry out, with the values read from the message."""

    name: str  # create_track, create_project, ..., list_projects, organization_summary, question
    slots: dict[str, object] = field(default_factory=dict)


def level_of(text: str) -> str | None:
    m = LEVEL_WORD.search(text)
    return LEVELS[m.group(1).lower()] if m else None


def emails_in(text: str) -> list[str]:
    return list(dict.fromkeys(e.rstrip(".") for e in EMAIL.findall(text)))


def _clean_name(value: str) -> str:
    value = re.sub(r"\s+", " ", value).strip(" .,:;!?\"'“”‘’")
    value = re.sub(r"^(the|a|an|my|our)\s+", "", value, flags=re.I)
    return value[:120]


def _after(pattern: str, text: str) -> str | None:
    """The words after a phrase, up to the next connective or the end."""
    m = re.search(
        pattern
        + r"\s+(?:the\s+)?(.+?)(?=\s+(?:in|into|for|to|with|at|on|as|called|named|and|,)\b|[.,;!?]|$)",
        text,
        re.IGNORECASE,
    )
    return _clean_name(m.group(1)) if m else None


def explicit_name(text: str) -> str | None:
    m = QUOTED.search(text)
    if m:
        return _clean_name(m.group(1))
    return _after(r"\b(?:called|named|titled|name it|call it)", text)


def container_name(text: str, entity: str) -> str | None:
    """ "in Data Science Foundations", "in the project X", "to track Y", "X project"."""
    for pattern in (
        rf"\b(?:in|into|to|for|under|within|of)\s+(?:the\s+)?{entity}",
        r"\b(?:in|into|under|within)",
    ):
        found = _after(pattern, text)
        if found and not LEVEL_WORD.fullmatch(found) and not ENTITY[entity].fullmatch(found):
            return found
    m = re.search(rf"\b(?:in|into|to|for|under)\s+(?:the\s+)?(.+?)\s+{entity}\b", text, re.IGNORECASE)
    if m:
        return _clean_name(m.group(1))
    return None


def track_subject(text: str) -> str | None:
    """The topic of a track: "a beginner track for Python" / "an intermediate Python track"."""
    m = re.search(
        r"\b(?:an?|the|new)?\s*(?:(?:beginner|intermediate|advanced|basic|introductory|expert)\s+)?"
        r"([A-Z][\w+#.-]*(?:\s+[A-Z][\w+#.-]*){0,3})\s+track\b",
        text,
    )
    if m:
        return _clean_name(m.group(1))
    return _after(r"\btracks?\s+(?:for|on|about|in|covering)", text)


def suggested_track_name(subject: str, level: str | None) -> str:
    if level == "intermediate":
        return f"Intermediate {subject}"
    if level == "advanced":
        return f"Advanced {subject}"
    return f"{subject} Fundamentals"


def is_question(text: str) -> bool:
    stripped = text.strip()
    if REQUEST_START.match(stripped):
        return False
    return bool(QUESTION_START.match(stripped)) or (
        stripped.endswith("?") and not VERBS["create"].match(stripped)
    )


def detect(text: str) -> Intent:
    """The intent of one message (a question unless it reads as a request)."""
    t = " ".join(text.split())
    if CANCEL.match(t):
        return Intent("cancel")
    ent = {name: bool(rx.search(t)) for name, rx in ENTITY.items()}
    verb = {name: bool(rx.search(t)) for name, rx in VERBS.items()}
    emails = emails_in(t)
    question = is_question(t)
    if question and not (verb["list"] or verb["summary"]):
        return Intent("question", {"text": t})
    if verb["summary"] and not verb["create"]:
        return Intent("organization_summary")
    if verb["list"] and not verb["create"] and not verb["delete"]:
        for entity, tool in (
            ("track", "list_tracks"),
            ("course", "list_courses"),
            ("project", "list_projects"),
        ):
            if ent[entity]:
                return Intent(
                    tool, {"container": container_name(t, "project") if entity == "track" else None}
                )
        if ent["member"]:
            role = (
                "instructor"
                if re.search(r"instructors?|teachers?", t, re.I)
                else ("student" if re.search(r"students?", t, re.I) else None)
            )
            return Intent("list_members", {"role_type": role})
    if verb["delete"]:
        if emails or (ent["member"] and not (ent["track"] or ent["course"] or ent["project"])):
            return Intent(
                "remove_member", {"who": emails[0] if emails else _after(r"\b(?:remove|delete)", t)}
            )
        for entity in ("track", "course", "project"):
            if ent[entity]:
                target = explicit_name(t) or _after(rf"\b{entity}", t) or _before_entity(t, entity)
                return Intent(
                    f"delete_{entity}", {"target": target, "force": bool(re.search(r"\bforce\b", t, re.I))}
                )
    if verb["publish"]:
        for entity in ("track", "course", "project"):
            if ent[entity]:
                target = explicit_name(t) or _after(rf"\b{entity}", t) or _before_entity(t, entity)
                return Intent(f"publish_{entity}", {"target": target})
    if verb["assign"] and ent["track"] and (emails or re.search(r"instructor|teacher", t, re.I)):
        return Intent(
            "assign_instructor_to_track",
            {"who": emails[0] if emails else _after(r"\bassign", t), "track": container_name(t, "track")},
        )
    if verb["enroll"] or (emails and re.search(r"\bstudents?\b", t, re.I)):
        if ent["course"] and not ent["track"]:
            return Intent(
                "enroll_student_in_course", {"emails": emails, "course": container_name(t, "course")}
            )
        return Intent("enroll_students_in_track", {"emails": emails, "track": container_name(t, "track")})
    if verb["invite"] and re.search(r"\b(instructors?|teachers?)\b", t, re.I) and not ent["track"]:
        return Intent(
            "onboard_instructor",
            {
                "email": emails[0] if emails else None,
                "full_name": _person_name(t),
                "project": container_name(t, "project") or _project_after_to(t),
            },
        )
    if verb["create"] or re.match(r"^(i need|i want|we need|let'?s have)\b", t, re.I):
        primary = _primary_entity(t, ("track", "course", "project"))
        if primary == "track":
            level = level_of(t)
            name = explicit_name(t)
            subject = None if name else track_subject(t)
            project = container_name(t, "project")
            if subject and project and subject.lower() == project.lower():
                project = None
            return Intent(
                "create_track",
                {
                    "name": name or (suggested_track_name(subject, level) if subject else None),
                    "subject": subject,
                    "level": level,
                    "project": project,
                    "duration_weeks": _int(WEEKS, t),
                    "max_students": _int(STUDENTS_CAP, t),
                },
            )
        if primary == "course":
            return Intent(
                "create_course",
                {
                    "title": explicit_name(t) or _course_subject(t),
                    "level": level_of(t),
                    "track": container_name(t, "track"),
                },
            )
        if primary == "project":
            name = explicit_name(t) or _before_entity(t, "project") or _after(r"\bproject", t)
            return Intent("create_project", {"name": name, "duration_weeks": _int(WEEKS, t)})
    if question:
        return Intent("question", {"text": t})
    return Intent("unknown", {"text": t})


def _int(pattern: re.Pattern[str], text: str) -> int | None:
    m = pattern.search(text)
    return int(m.group(1)) if m else None


def _before_entity(text: str, entity: str) -> str | None:
    m = re.search(rf"(?:the|a|an|new)\s+(.+?)\s+{entity}s?\b", text, re.IGNORECASE)
    if not m:
        return None
    name = re.sub(rf"^({'|'.join(LEVELS)})\s+", "", m.group(1), flags=re.I)
    name = _clean_name(name)
    return name if name and name.lower() not in ("new", "a", "an", "the") else None


def _course_subject(text: str) -> str | None:
    return _after(r"\bcourses?\s+(?:on|about|covering|teaching)", text) or _before_entity(text, "course")


def _person_name(text: str) -> str | None:
    """A capitalised name right before an email: "Jane Doe (jane@x.org)", "Jane Doe <jane@x.org>"."""
    m = re.search(r"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+){1,2})\s*[(<]?\s*[A-Za-z0-9._%+-]+@", text)
    if not m:
        return None
    words = m.group(1).split()
    while words and words[0].lower() in ("invite", "onboard", "add", "please", "bring", "welcome"):
        words.pop(0)
    return " ".join(words) if len(words) >= 2 else None


def _project_after_to(text: str) -> str | None:
    found = _after(r"\bto", text)
    if (
        not found
        or EMAIL.search(found)
        or re.search(r"\b(organi[sz]ation|org|team|us|platform)\b", found, re.I)
    ):
        return None
    return found


def _primary_entity(text: str, entities: tuple[str, ...]) -> str | None:
    """The entity a request is about: the first one named after the verb ("add a course ... to
    the X track" is about a course)."""
    verb = VERBS["create"].search(text)
    start = verb.end() if verb else 0
    best: tuple[int, str] | None = None
    for entity in entities:
        m = ENTITY[entity].search(text, start)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), entity)
    return best[1] if best else None
