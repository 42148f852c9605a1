"""Values read from a follow-up message into the request being filled in, or revised.

An answer to "Which project?" can be a bare name ("Cloud Engineering Pathway"), a phrase ("put it
in the Cloud Engineering Pathway project") or carry more than was asked ("Data Science
Foundations, and make it advanced"). A change to a proposal ("actually make it advanced", "call
it X instead", "no, in the other project") is read the same way: every value the message holds
is taken, whatever was asked, and a level the platform does not have is reported, never mapped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.providers.offline.phrases import (
    LEVEL_WORD,
    as_sentence,
    audience_in,
    bare_level,
    clean_name,
    container,
    covers_in,
    emails_in,
    explicit_name,
    level_in,
    mentioned,
    strip_kind,
    students_cap_in,
    wants_other,
    weeks_in,
)

# intent -> (slot, kind) of the container the thing goes in or is done to
CONTAINER = {
    "create_track": ("project", "project"),
    "create_course": ("track", "track"),
    "onboard_instructor": ("project", "project"),
    "enroll_students_in_track": ("track", "track"),
    "enroll_student_in_course": ("course", "course"),
    "assign_instructor_to_track": ("track", "track"),
}
NAME_SLOT = {"create_track": "name", "create_project": "name", "create_course": "title"}
LEVELLED = frozenset({"create_track", "create_course"})
CREATES = frozenset({"create_track", "create_project", "create_course"})
REVISION = re.compile(
    r"^\W*(?:actually|no|nope|wait|sorry|oops|hmm+|rather|on second thought|change|make\s+(?:it|that|this)"
    r"|call\s+(?:it|that|this)|name\s+(?:it|that|this)|rename|switch|move\s+(?:it|that|this)"
    r"|put\s+(?:it|that|this)|use|set\s+(?:it|the|its)|let'?s\s+(?:make|call|put|use)|i\s+meant)\b"
    r"|\binstead\b|\brather\b",
    re.IGNORECASE,
)
AFFIRMATIVE = re.compile(
    r"^\W*(?:yes|yep|yeah|yup|y|correct|right|exactly|sure|ok(?:ay)?|that(?:'s| is)? (?:the )?one|that one)\b",
    re.I,
)
ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "fifth": 4}
_FILLER = re.compile(
    r"^(?:(?:it'?s|it is|that'?s|that is|the answer is|use|in|into|to|under|within|inside|for|please|"
    r"oh|ok|okay|well|um|uh|let'?s say|say|go with|make it|put it in|call it|name it)\s+)+",
    re.IGNORECASE,
)


@dataclass
class Reading:
    """What a message says about the request's values."""

    values: dict[str, Any] = field(default_factory=dict)
    invalid_level: str | None = None
    other: str | None = None  # "the other project": a kind the user wants changed, without a name

    def __bool__(self) -> bool:
        return bool(self.values or self.invalid_level or self.other)


def is_revision(text: str) -> bool:
    return bool(REVISION.search(text))


def read(
    text: str, intent: str, projects: Sequence[str], awaiting: str | None = None, *, revising: bool = False
) -> Reading:
    """Every value of `intent` the text gives; a bare answer goes to the awaited slot. `revising`:
    the text changes a proposal ("no, I meant X"), so a bare name is the resource it is about."""
    t = " ".join(text.split())
    reading = Reading()
    values = reading.values
    known = mentioned(t, projects)
    plain = re.sub(re.escape(known), " ", t, flags=re.I) if known else t  # "Advanced Analytics" is a name
    name_slot = NAME_SLOT.get(intent)
    name = explicit_name(t, projects)
    if name and name_slot:
        values[name_slot] = strip_kind(name) or name
    if intent in LEVELLED:
        level = bare_level(plain) if awaiting == "level" else level_in(plain)
        if level.value:
            values["level"] = level.value
        elif level.invalid:
            reading.invalid_level = level.invalid
    if intent in CONTAINER:
        slot, kind = CONTAINER[intent]
        if wants_other(t, kind):
            reading.other = kind
        else:
            found = (known if kind == "project" else None) or container(t, kind, projects)
            if found and not (name and found.lower() in name.lower()):
                values[slot] = found
    emails = emails_in(t)
    if emails and intent in ("enroll_students_in_track", "enroll_student_in_course"):
        values["emails"] = emails
    elif emails and intent == "onboard_instructor":
        values["email"] = emails[0]
    elif emails and intent in ("assign_instructor_to_track", "remove_member"):
        values["who"] = emails[0]
    if intent.startswith(("publish_", "delete_")) and revising:
        target = _revised_target(t, intent.split("_", 1)[1], projects)
        if target:
            values["target"] = target
    if intent in CREATES:
        for key, found_value in (
            ("duration_weeks", weeks_in(t)),
            ("audience", audience_in(t)),
            ("covers", covers_in(t)),
            ("max_students", students_cap_in(t) if intent == "create_track" else None),
        ):
            if found_value:
                values[key] = found_value
    if awaiting and awaiting not in values and not (awaiting == "level" and reading.invalid_level):
        bare = _bare(t, awaiting)
        if bare:
            values[awaiting] = bare
    return reading


_REVISED = re.compile(
    r"^\W*(?:(?:actually|no|nope|wait|sorry|oops|rather|i\s+meant|i\s+mean|meant|make\s+(?:it|that)|use|not\s+that"
    r"(?:\s+one)?|do|delete|publish|remove|drop)\b[\s,.!:;-]*)+",
    re.IGNORECASE,
)


def _revised_target(text: str, kind: str, projects: Sequence[str]) -> str | None:
    """ "no, I meant Deep Learning Systems", "actually delete Cloud Engineering Pathway instead": the
    other resource a publish or delete is about."""
    if kind == "project":
        known = mentioned(text, projects)
        if known:
            return known
    name = explicit_name(text, projects)
    if not name:
        rest = _REVISED.sub("", text.strip())
        rest = re.sub(r"\s+(?:instead|please|then)\W*$", "", rest, flags=re.I)
        name = strip_kind(clean_name(rest))
    if (
        not name
        or LEVEL_WORD.search(name)
        or re.fullmatch(r"(?:it|this|that|one|(?:the\s+)?other(?:\s+one)?|another(?:\s+one)?)", name, re.I)
    ):
        return None
    return name


def _bare(text: str, slot: str) -> Any:
    """A whole answer as the value of one slot ("Data Science Foundations", "the Go track")."""
    if slot == "description":  # the answer to "what will it cover?" is the description, as they said it
        return as_sentence(
            re.sub(r"^(?:it|this|that)\s+(?=covers?\b|teach|is\b|will\b)", "", text.strip(), flags=re.I)
        )
    if slot in ("level", "emails", "email"):
        return None
    value = _FILLER.sub("", text.strip())
    value = strip_kind(clean_name(value)) or ""
    value = re.sub(r"\s+(?:please|thanks|thank you)$", "", value, flags=re.I)
    return value or None


def pick(text: str, candidates: Sequence[dict[str, str]]) -> dict[str, str] | None:
    """An answer choosing among offered candidates: "yes" (when one was offered), "the second one",
    or one of their names typed back (case and spacing do not count)."""
    if not candidates:
        return None
    if len(candidates) == 1 and AFFIRMATIVE.match(text):
        return candidates[0]
    m = re.search(r"\b(" + "|".join(ORDINALS) + r")\b", text, re.I)
    if m and ORDINALS[m.group(1).lower()] < len(candidates):
        return candidates[ORDINALS[m.group(1).lower()]]
    typed = " ".join(strip_kind(_FILLER.sub("", text.strip())).split()).casefold()
    for candidate in candidates:
        if " ".join(candidate["name"].split()).casefold() == typed:
            return candidate
    return None
