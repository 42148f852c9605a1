"""What a message asks for, read with rules instead of a model.

The offline planner understands the catalog's requests the way an admin types them ("Create a
beginner track for Python", "Put a track called 'Docker Basics' into Cloud Engineering Pathway",
"invite jane@x.org as an instructor", "publish the SQL course", "how many tracks does Data
Science Foundations have?") and pulls out the values it can see with the readers in phrases.py.
Anything it cannot see is left empty for the planner to ask about. A question ("how do I ...?")
is never mistaken for a request: it is answered from the documentation instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from app.providers.offline.phrases import (
    ADDING_VERB,
    ANY_KIND,
    KIND,
    LEVEL_LIKE,
    LEVEL_WORD,
    after,
    audience_in,
    clean_name,
    container,
    covers_in,
    emails_in,
    explicit_name,
    level_in,
    mentioned,
    name_after_kind,
    same_name,
    strip_kind,
    students_cap_in,
    weeks_in,
)

QUESTION_START = re.compile(
    r"^(how|what|why|when|where|which|who|is|are|does|do|did|can i|can we|could i|should|will|explain|"
    r"tell me about|describe)\b",
    re.IGNORECASE,
)
REQUEST_START = re.compile(
    r"^(please\s+)?(can|could|would|will) you\b|^please\b|^(can|could) (we|i) (get|have)\b", re.IGNORECASE
)
CANCEL = re.compile(r"^(cancel|never ?mind|forget (it|that|about it)|stop|abort|no thanks?|drop it)\b", re.I)

ENTITY = {
    "track": re.compile(r"\b(learning )?(tracks?|paths?)\b", re.I),
    "project": re.compile(r"\b(projects?|programs?|programmes?)\b", re.I),
    "course": re.compile(r"\bcourses?\b", re.I),
    "member": re.compile(
        r"\b(members?|instructors?|teachers?|students?|learners?|admins?|users?|people)\b", re.I
    ),
}
VERBS = {
    "create": re.compile(
        r"\b(create|add|make|set ?up|build|start|new|open|put|establish|spin up|stand up|draft|prepare|"
        r"introduce|launch a new|need|want|would like|'d like|let'?s have|let'?s get|give us|get us)\b",
        re.I,
    ),
    "publish": re.compile(
        r"\b(publish|go(es)? live|make\b.{0,60}\blive|set\b.{0,60}\blive|put\b.{0,60}\blive|release|activate|"
        r"open\b.{0,60}\bfor enrol{1,2}ments?|launch(?! a new))\b",
        re.I,
    ),
    "delete": re.compile(r"\b(delete|remove|drop|get rid of|erase|destroy|scrap|trash|wipe out)\b", re.I),
    "enroll": re.compile(r"\b(enrol{1,2}|sign(ed)? up|register|sign\b.{0,60}\bup)\b", re.I),
    "invite": re.compile(r"\b(invite|onboard|bring (in|on)|add|welcome|hire|recruit)\b", re.I),
    "assign": re.compile(
        r"\b(assign|appoint|attach|put|place|set|make|let|have|get)\b.{0,80}\b(teach|teaches|teaching|"
        r"instructors?|teachers?|lead|leads)\b|\b(assign|appoint)\b",
        re.I,
    ),
    "list": re.compile(
        r"\b(list|show|see|display|what are|which|give me|view|tell me)\b"
        r"|^what\s+(?:\w+\s+)?(?:tracks|projects|programs|courses|members|instructors|students)\s+"
        r"(?:do|does|are|exist|have)\b",
        re.I,
    ),
    "count": re.compile(r"\b(how many|number of|count of|count the|total number|how much)\b", re.I),
    "summary": re.compile(r"\b(summary|overview|stats|statistics|at a glance|numbers)\b", re.I),
}
COUNTED = {
    "track": "tracks",
    "path": "tracks",
    "course": "courses",
    "project": "projects",
    "program": "projects",
    "student": "students",
    "learner": "students",
    "enrollment": "students",
    "enrolment": "students",
    "instructor": "instructors",
    "teacher": "instructors",
    "member": "members",
    "people": "members",
    "user": "members",
    "admin": "members",
}
WHOLE = re.compile(r"^(?:total|all|general|our|my|the org|organi[sz]ation|the platform|us|here)\b", re.I)
INSTRUCTOR_WORD = re.compile(r"\b(instructors?|teachers?|teach(es|ing)?|lecturers?|tutors?)\b", re.I)


@dataclass
class Intent:
    """A request the planner can carry out, with the values read from the message."""

    name: str  # create_track, ..., list_tracks, count, organization_summary, question, unknown
    slots: dict[str, object] = field(default_factory=dict)


def is_question(text: str) -> bool:
    stripped = text.strip()
    if REQUEST_START.match(stripped):
        return False
    return bool(QUESTION_START.match(stripped)) or (
        stripped.endswith("?") and not VERBS["create"].match(stripped)
    )


def suggested_track_name(subject: str, level: str | None) -> str:
    if level == "intermediate":
        return f"Intermediate {subject}"
    if level == "advanced":
        return f"Advanced {subject}"
    return f"{subject} Fundamentals"


def detect(text: str, projects: Sequence[str] = ()) -> Intent:
    """The intent of one message (a question unless it reads as a request). `projects` are the
    organization's project names, when known: a mention of one is read as that project."""
    t = " ".join(text.split())
    if CANCEL.match(t):
        return Intent("cancel")
    ent = {name: bool(rx.search(t)) for name, rx in ENTITY.items()}
    verb = {name: bool(rx.search(t)) for name, rx in VERBS.items()}
    emails = emails_in(t)
    question = is_question(t)
    if (verb["count"] and not verb["create"]) or (verb["count"] and question):
        return _count(t, projects)
    if question and not (verb["list"] or verb["summary"]):
        return Intent("question", {"text": t})
    if verb["summary"] and not verb["create"]:
        return Intent("organization_summary")
    if verb["list"] and not verb["create"] and not verb["delete"]:
        listing = _listing(t, ent, projects)
        if listing:
            return listing
    if verb["delete"]:
        if emails or (ent["member"] and not (ent["track"] or ent["course"] or ent["project"])):
            return Intent("remove_member", {"who": emails[0] if emails else after(r"\b(?:remove|delete)", t)})
        entity = _primary_entity(t, ("track", "course", "project"), VERBS["delete"])
        if entity:
            return Intent(
                f"delete_{entity}",
                {"target": _target(t, entity), "force": bool(re.search(r"\bforce\b", t, re.I))},
            )
    if verb["publish"]:
        entity = _primary_entity(t, ("track", "course", "project"), VERBS["publish"])
        if entity:
            return Intent(f"publish_{entity}", {"target": _target(t, entity)})
    if ent["track"] and verb["assign"] and INSTRUCTOR_WORD.search(t):
        return Intent(
            "assign_instructor_to_track",
            {
                "who": emails[0] if emails else _person(t),
                "track": container(t, "track", generic=True) or _name_next_to(t, "track"),
            },
        )
    enrolling = verb["enroll"] or (
        emails
        and (
            re.search(r"\b(students?|learners?)\b", t, re.I)
            or (ADDING_VERB.search(t) and (ent["track"] or ent["course"]))
        )
    )
    if enrolling and not INSTRUCTOR_WORD.search(t):
        if ent["course"] and not ent["track"]:
            return Intent("enroll_student_in_course", {"emails": emails, "course": container(t, "course")})
        return Intent("enroll_students_in_track", {"emails": emails, "track": container(t, "track")})
    if verb["invite"] and INSTRUCTOR_WORD.search(t) and not ent["track"]:
        return Intent(
            "onboard_instructor",
            {
                "email": emails[0] if emails else None,
                "full_name": _person_name(t),
                "project": container(t, "project", projects) or _project_after_to(t),
            },
        )
    if verb["create"]:
        created = _creation(t, projects)
        if created:
            return created
    if question:
        return Intent("question", {"text": t})
    return Intent("unknown", {"text": t})


# --- creations ---------------------------------------------------------------------------------
def _creation(t: str, projects: Sequence[str]) -> Intent | None:
    primary = _primary_entity(t, ("track", "course", "project"), VERBS["create"])
    level = level_in(t)
    common = {
        "level": level.value,
        "level_invalid": level.invalid,
        "covers": covers_in(t),
        "audience": audience_in(t),
        "duration_weeks": weeks_in(t),
    }
    if primary == "track":
        name = explicit_name(t, projects)
        project = container(t, "project", projects)
        common["covers"] = _without_container(common["covers"], project)
        subject = None if name else track_subject(t, project)
        return Intent(
            "create_track",
            {
                **common,
                "name": name or (suggested_track_name(subject, level.value) if subject else None),
                "name_given": bool(name),
                "subject": subject,
                "project": project,
                "max_students": students_cap_in(t),
            },
        )
    if primary == "course":
        track = container(t, "track")
        common["covers"] = _without_container(common["covers"], track)
        return Intent(
            "create_course",
            {**common, "title": explicit_name(t, projects) or _course_subject(t), "track": track},
        )
    if primary == "project":
        name = explicit_name(t, projects) or _name_next_to(t, "project") or after(rf"\b{KIND['project']}", t)
        if name and re.match(r"(?:for|on|about|covering|to|that|which|with)\b", name, re.I):
            phrase = re.sub(r"^\w+\s+", "", name)  # "a project for Kubernetes training": no name given
            if not (common["audience"] and same_name(str(common["audience"]), phrase)):
                common["covers"] = common["covers"] or phrase
            name = None
        return Intent("create_project", {**common, "name": name})
    return None


def _without_container(covers: object, where: str | None) -> str | None:
    """ "covering Spark to Data Science Foundations" covers Spark: the container is not the topic."""
    if not covers:
        return None
    value = str(covers)
    if where:
        value = re.sub(
            rf"\s+(?:in|into|to|for|under|within|inside|onto)\s+(?:the\s+)?{re.escape(where)}(?:\s+{ANY_KIND})?$",
            "",
            value,
            flags=re.I,
        )
    return value or None


def track_subject(text: str, project: str | None = None) -> str | None:
    """The topic of a track: "a beginner track for Python" / "an intermediate Python track"."""
    levels = rf"(?:(?:beginners?|intermediate|advanced|{LEVEL_LIKE})(?:[- ]level)?\s+)?"
    m = re.search(
        rf"\b(?:an?|the|new)?\s*{levels}([A-Z][\w+#.-]*(?:\s+[A-Z][\w+#.-]*){{0,3}})\s+(?:learning\s+)?track\b",
        text,
    )
    found = clean_name(m.group(1)) if m else None
    if found and re.fullmatch(r"(?:New|Learning|A|An|The|Create|Add|Make|Put|Set|Build|Please)", found):
        found = None
    if not found:
        found = after(r"\btracks?\s+(?:for|on|about|in|covering|teaching)", text)
    if not found or (project and found.lower() == project.lower()) or LEVEL_WORD.fullmatch(found):
        return None
    if project and found.lower().endswith(project.lower()):
        return None
    return found[0].upper() + found[1:] if found.islower() else found


def _course_subject(text: str) -> str | None:
    return after(r"\bcourses?\s+(?:on|about|covering|teaching|for)", text) or _name_next_to(text, "course")


# --- reads -------------------------------------------------------------------------------------
def _listing(t: str, ent: dict[str, bool], projects: Sequence[str]) -> Intent | None:
    entity = _primary_entity(t, ("track", "course", "project", "member"), VERBS["list"])
    if entity == "track":
        return Intent("list_tracks", {"scope_kind": "project", "scope": container(t, "project", projects)})
    if entity == "course":
        return Intent("list_courses", {"scope_kind": "track", "scope": container(t, "track")})
    if entity == "project":
        return Intent("list_projects")
    if entity == "member" or ent["member"]:
        role = (
            "instructor"
            if INSTRUCTOR_WORD.search(t)
            else ("student" if re.search(r"\b(students?|learners?)\b", t, re.I) else None)
        )
        return Intent("list_members", {"role_type": role})
    return None


def _count(t: str, projects: Sequence[str]) -> Intent:
    """ "how many tracks does Data Science Foundations have" counts that project's tracks; with no
    scope named it is the organization's figure."""
    m = re.search(
        r"\b(?:how many|number of|count of|count the|total number of|how much)\s+(?:\w+\s+){0,2}?"
        r"(tracks?|paths?|courses?|projects?|programs?|students?|learners?|enrol{1,2}ments?|instructors?"
        r"|teachers?|members?|people|users?|admins?)\b",
        t,
        re.I,
    )
    what = COUNTED.get(re.sub(r"s$", "", m.group(1).lower()), "members") if m else None
    if m and m.group(1).lower() == "people":
        what = "members"
    rest = t[m.end() :] if m else t
    kind, scope = _scope(rest, what, projects)
    if not scope or what in (None, "projects", "members"):
        return Intent("organization_summary", {"what": what})
    return Intent("count", {"what": what, "scope_kind": kind, "scope": scope})


def _scope(rest: str, what: str | None, projects: Sequence[str]) -> tuple[str, str | None]:
    for kind in ("track", "course"):
        found = container(rest, kind, projects, generic=False) or _owner(rest, kind)
        if found:
            return kind, found
    hit = mentioned(rest, projects) or container(rest, "project", projects, generic=False)
    if hit or _owner(rest, "project"):
        return "project", hit or _owner(rest, "project")
    default = (
        "project" if what == "tracks" else ("track" if what in ("students", "instructors") else "project")
    )
    # "enrolled in Python for Data Analysis?": to the end, small words and all
    loose = _owner(rest, None) or _loose(rest) or container(" " + rest, default, projects)
    if loose and WHOLE.match(loose):
        loose = None
    return default, loose


def _owner(text: str, kind: str | None) -> str | None:
    """ "does the X track have", "does X have", "X has"."""
    k = KIND[kind] if kind else ""
    m = re.search(
        rf"\b(?:does|do|did)\s+(?:the\s+)?(.+?)\s+{k + ' ' if k else ''}(?:have|has|got|contain|hold|include|offer|run)\b",
        text,
        re.I,
    )
    if not m:
        return None
    name = strip_kind(m.group(1))
    return name if name and not re.match(r"^(?:we|i|you|they|our|my|the org|it)\b", name, re.I) else None


def _loose(rest: str) -> str | None:
    m = re.search(r"\b(?:in|of|for|within|under|inside)\s+(?:the\s+)?(.+?)\s*[?.!]*$", rest, re.I)
    if not m:
        return None
    name = strip_kind(m.group(1))
    if not name or WHOLE.match(name):
        return None
    return name


# --- names of things ---------------------------------------------------------------------------
def _target(t: str, entity: str) -> str | None:
    found = explicit_name(t) or _name_next_to(t, entity) or name_after_kind(t, entity)
    return strip_kind(found, (entity,)) or None


def _name_next_to(text: str, entity: str) -> str | None:
    """ "the Docker Basics track" / "a new project Machine Learning Lab" -> the name."""
    m = re.search(
        rf"(?:the|a|an|new|our|my|this)\s+((?:(?!\b(?:the|a|an)\s)[^,.;!?@()])+?)\s+{KIND[entity]}\b",
        text,
        re.I,
    )
    if m:
        name = re.sub(
            rf"^(?:(?:beginners?|intermediate|advanced|new|{LEVEL_LIKE})(?:[- ]level)?\s+)+",
            "",
            m.group(1),
            flags=re.I,
        )
        name = clean_name(name)
        if name and name.lower() not in ("new", "a", "an", "the", "other", "same"):
            return name
    m = re.search(
        rf"\bnew\s+{KIND[entity]}\s+(.+?)(?=\s+(?:for|in|with|called|named)\b|[,.;!?]|$)", text, re.I
    )
    return clean_name(m.group(1)) if m else None


def _person(text: str) -> str | None:
    m = re.search(
        r"\b(?:assign|appoint|attach|put|place|set|make|let|have|get)\s+(.+?)\s+(?:to|as|on|onto|in|into|teach|for)\b",
        text,
        re.I,
    )
    return clean_name(m.group(1)) if m else None


def _person_name(text: str) -> str | None:
    """A capitalised name right before an email: "Jane Doe (jane@x.org)", "Jane Doe <jane@x.org>"."""
    m = re.search(r"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+){1,2})\s*[(<]?\s*[A-Za-z0-9._%+-]+@", text)
    if not m:
        return None
    words = m.group(1).split()
    while words and words[0].lower() in ("invite", "onboard", "add", "please", "bring", "welcome", "hire"):
        words.pop(0)
    return " ".join(words) if len(words) >= 2 else None


def _project_after_to(text: str) -> str | None:
    found = after(r"\bto", text)
    if not found or "@" in found or re.search(r"\b(organi[sz]ation|org|team|us|platform)\b", found, re.I):
        return None
    return strip_kind(found, ("project",)) or None


def _primary_entity(text: str, entities: Iterable[str], verb: re.Pattern[str]) -> str | None:
    """The entity a request is about: the first one named after the verb ("add a course ... to
    the X track" is about a course)."""
    found = verb.search(text)
    start = found.start() if found else 0
    after_verb: tuple[int, str] | None = None
    before_verb: tuple[int, str] | None = None  # "Inside the X project, set up a track": the track
    for entity in entities:
        m = ENTITY[entity].search(text, start)
        if m and (after_verb is None or m.start() < after_verb[0]):
            after_verb = (m.start(), entity)
        for early in ENTITY[entity].finditer(text, 0, start):
            if before_verb is None or early.start() > before_verb[0]:
                before_verb = (early.start(), entity)
    best = after_verb or before_verb
    return best[1] if best else None
