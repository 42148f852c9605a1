"""Reading values out of a sentence: names, the container something goes in, levels, numbers.

The intent reader (intents.py) and the follow-up answers (slots.py) read values the same way, so
"Put a track called 'Docker Basics' into Cloud Engineering Pathway", "add it to Cloud Engineering
Pathway" and a bare "Cloud Engineering Pathway" all give the same project. Names come back
without the kind word people wrap them in ("the Docker Basics track" is "Docker Basics"), and a
level the platform does not have ("expert") is reported as such instead of being mapped to one it
has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
QUOTED = re.compile(r"[\"“”‘’]([^\"“”‘’]{2,120})[\"“”‘’]|(?<!\w)'([^']{2,120})'(?!\w)")

LEVELS = ("beginner", "intermediate", "advanced")
LEVEL_WORD = re.compile(r"\b(beginners?|intermediate|advanced)\b", re.IGNORECASE)
# Words people use for a level that the platform does not have: reported, never mapped.
LEVEL_LIKE = (
    r"experts?|expert-level|mastery|master|pro|professional|novice|newbie|basic|elementary|introductory"
    r"|intro|entry|easy|medium|hard|difficult|junior|senior|mid|foundational|beginning|beginer"
    r"|intermidiate|advance"
)
_INVALID_LEVEL = (
    re.compile(rf"\b({LEVEL_LIKE})(?:[- ]level)?\s+(?:tracks?|courses?|level)\b", re.IGNORECASE),
    re.compile(rf"\blevel\s+(?:an?\s+)?({LEVEL_LIKE})\b", re.IGNORECASE),
    re.compile(r"\blevel\s*(?:set\s+)?(?:to|:|=|is|should be|as)\s*(?:an?\s+)?([A-Za-z]+)\b", re.IGNORECASE),
    re.compile(rf"\bmake\s+(?:it|that|this|them)\s+(?:an?\s+)?({LEVEL_LIKE})\b", re.IGNORECASE),
    re.compile(r"\b(\w+)[- ]level\b", re.IGNORECASE),
)
_NOT_A_LEVEL_VALUE = {"the", "a", "an", "its", "it", "this", "that", "which", "what", "each", "every", "same"}

KIND = {
    "project": r"(?:projects?|programs?|programmes?)",
    # "learning track" only in lower case: "the Machine Learning track" is named "Machine Learning"
    "track": r"(?:(?-i:learning)\s+tracks?|tracks?|(?-i:learning)\s+paths?)",
    "course": r"(?:courses?)",
}
ANY_KIND = r"(?:" + "|".join(KIND.values()) + r")"
ARTICLE = re.compile(r"^(?:the|a|an|my|our|this|that|your|their)\s+", re.IGNORECASE)
# Words that end a name when it is read up to the next phrase.
STOP = (
    r"in|into|to|for|with|at|on|as|called|named|titled|and|under|within|inside|from|by|that|which|"
    r"covering|about|lasting|over|starting|aimed|targeted|targeting|designed|intended|instead|please|"
    r"teaching|focused|focusing|so|but|then|too|also|right"
)
_TAIL = rf"(?=\s+(?:{STOP})\b|\s*[,.;!?()]|\s*$)"

# Prepositions that put something inside a container ("into X", "under X", "as part of X").
CONTAINER_PREPS = (
    r"in|into|to|for|under|within|inside(?:\s+of)?|of|on|onto|from|as\s+part\s+of|part\s+of|belonging\s+to"
)
GENERIC_PREPS = r"in|into|under|within|inside(?:\s+of)?|onto|as\s+part\s+of|belonging\s+to"
ADDING_VERB = re.compile(
    r"\b(add|put|move|attach|append|assign|place|enrol{1,2}|sign|register|bring)\b", re.I
)
OTHER = re.compile(r"^(?:the\s+)?(?:other|another|a\s+different|different|second)\b", re.IGNORECASE)

PEOPLE = (
    r"analysts|engineers|developers|devs|students|learners|beginners|hires|staff|employees|managers|people"
    r"|teams?|newcomers|changers|professionals|designers|scientists|admins|administrators|nurses|teachers"
    r"|instructors|graduates|grads|interns|juniors|seniors|leaders|executives|marketers|customers|members"
    r"|kids|children|adults|owners|founders|researchers|operators|technicians|clinicians|doctors|writers"
    r"|volunteers|programmers|coders|testers|consultants|officers|agents|specialists|architects|owners"
    r"|everyone|anyone|folks|users|freshers|apprentices|trainees|career changers|non-programmers"
)
AUDIENCE = re.compile(
    r"\b(?:for|to|aimed\s+at|targeted\s+at|targeting|designed\s+for|intended\s+for|geared\s+(?:toward|towards|to)"
    rf"|meant\s+for|built\s+for|made\s+for)\s+((?:[\w'-]+\s+){{0,6}}?(?:{PEOPLE}))\b(?:\s+who\s+[^.;!?]+)?",
    re.IGNORECASE,
)
COVERS = re.compile(
    r"\b(?:cover(?:s|ing)?|about|teach(?:es|ing)?|focus(?:ed|es|ing)?\s+on|on\s+the\s+topic\s+of"
    r"|dealing\s+with|introduc(?:es|ing)|(?:projects?|programs?|tracks?|courses?)\s+on)\s+"
    r"(.+?)(?=\s+(?:for|aimed|targeted|targeting|designed|intended|meant|built|over|lasting|running"
    r"|starting|in\s+\d|during|called|named)\b|\s*[;!?]|\.(?:\s|$)|\s*,\s*(?:for|aimed|lasting|running|over)\b"
    rf"|\s+to\s+(?:[\w'-]+\s+){{0,4}}?(?:{PEOPLE})\b"
    r"|\s+(?:in|into|under|within|inside)\s+(?:the\s+)?[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*(?:\s+(?:project|program|track))?\s*[?.!]*\s*$"
    r"|\s+\d+[- ]?(?:weeks?|months?)\b|$)",
    re.IGNORECASE,
)
WEEKS = re.compile(r"\b(\d{1,4})[- ]?weeks?\b", re.IGNORECASE)
MONTHS = re.compile(r"\b(\d{1,3})[- ]?months?\b", re.IGNORECASE)
STUDENTS_CAP = re.compile(
    r"\b(?:max(?:imum)?(?:\s+of)?|up\s+to|cap(?:ped)?\s+(?:at|of)|at\s+most|limit(?:ed)?\s+(?:to|of))?\s*"
    r"(\d{1,6})\s+(?:students|learners|seats|participants|people|places)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class LevelReading:
    """The level a sentence asks for: a level the platform has, or a word it does not have."""

    value: str | None = None
    invalid: str | None = None


def tidy(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip(" .,:;!?\"'“”‘’")


def clean_name(value: str) -> str:
    value = tidy(value)
    value = ARTICLE.sub("", value)
    return value[:200]


def strip_kind(value: str | None, kinds: Iterable[str] = ("project", "track", "course")) -> str:
    """The name without the article and kind words around it: "the Docker Basics track" ->
    "Docker Basics", "project Cloud Engineering Pathway" -> "Cloud Engineering Pathway"."""
    if not value:
        return ""
    name = clean_name(value)
    for _ in range(2):
        name = ARTICLE.sub("", name)
        for kind in kinds:
            name = re.sub(rf"^{KIND[kind]}\s+(?:called\s+|named\s+|titled\s+)?", "", name, flags=re.I)
            name = re.sub(rf"\s+{KIND[kind]}$", "", name, flags=re.I)
    name = tidy(name)
    return "" if re.fullmatch(ANY_KIND, name, re.I) else name


def same_name(a: str, b: str) -> bool:
    """Equal the way the platform compares names: case and spacing do not count."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def emails_in(text: str) -> list[str]:
    return list(dict.fromkeys(e.rstrip(".") for e in EMAIL.findall(text)))


def quoted(text: str) -> str | None:
    m = QUOTED.search(text)
    return clean_name(m.group(1) or m.group(2)) if m else None


def after(pattern: str, text: str) -> str | None:
    """The words after a phrase, up to the next connective or the end."""
    m = re.search(pattern + rf"\s+(?:the\s+)?(.+?){_TAIL}", text, re.IGNORECASE)
    if not m:
        return None
    value = clean_name(m.group(1))
    return value or None


_NAMING = re.compile(
    r"\b(?:called|named|titled|entitled|name\s+(?:it|that|this)|call\s+(?:it|that|this)"
    r"|rename\s+(?:it|that|this)(?:\s+to)?|change\s+the\s+(?:name|title)\s+to|title\s+(?:it|that)"
    r"|(?:name|title)\s+(?:should\s+be|is|to|:))\s+(?:the\s+)?",
    re.IGNORECASE,
)
# Where an unquoted name ends: punctuation, a phrase about something else (what it covers, for
# whom, how long), a change of subject, or a container ("in the X project", "under <a project>").
_NAME_END = (
    r"\s*[,;!?()]|\.(?:\s|$)|\s+(?:covering|about|aimed|targeted|targeting|lasting|starting|running|with|that"
    r"|which|teaching|focused|focusing|instead|please|at\s+(?:the\s+)?(?:beginner|intermediate|advanced|\w+[- ]level))\b"
    rf"|\s+for\s+(?:[\w'-]+\s+){{0,5}}?(?:{PEOPLE})\b|\s+for\s+\d|\s+\d+[- ]?(?:weeks?|months?)\b"
    r"|\s+and\s+(?:make|set|call|name|give|enrol|enroll|add|publish|assign|then|also|put|level)\b"
    r"|\s+(?:in|into|to|under|within|inside|onto)\s+(?:the\s+)?(?:[\w&'-]+\s+){0,6}?"
    r"(?:project|program|programme|track|course)s?\b"
    r"|\s+(?:under|within|inside|onto)\s"
)


def explicit_name(text: str, known: Iterable[str] = ()) -> str | None:
    """A name the user gave: quoted, or after "called", "named", "call it", "rename it to". An
    unquoted one keeps its small words ("Intro to Terraform", "Kubernetes in Depth") and ends where
    the sentence moves on: "..., in <a known project>", "for new analysts", "covering ...", "6 weeks"."""
    found = quoted(text)
    if found:
        return found
    m = _NAMING.search(text)
    if not m:
        return None
    rest = text[m.end() :]
    ends = [_NAME_END]
    names = sorted({k for k in known if k}, key=len, reverse=True)
    if names:
        alternatives = "|".join(r"\s+".join(re.escape(w) for w in k.split()) for k in names)
        ends.append(
            rf"\s+(?:in|into|to|for|under|within|inside|onto|of|as\s+part\s+of)\s+(?:the\s+)?(?:{alternatives})\b"
        )
    cut = min(
        (e.start() for e in (re.search(end, rest, re.IGNORECASE) for end in ends) if e), default=len(rest)
    )
    value = clean_name(rest[:cut])
    value = re.sub(rf"\s+{ANY_KIND}$", "", value, flags=re.IGNORECASE)
    return value or None


def without_names(text: str, known: Iterable[str] = ()) -> str:
    """The text without the name the user gave, so words inside a name ("Advanced Networking")
    are not read as a level or a container."""
    name = explicit_name(text, known)
    return text.replace(name, " ") if name else text


def level_in(text: str) -> LevelReading:
    """The level asked for. "expert" is not a level: it comes back as `invalid`, not mapped."""
    plain = without_names(text)
    m = LEVEL_WORD.search(plain)
    if m:
        word = m.group(1).lower()
        return LevelReading("beginner" if word.startswith("beginner") else word)
    for pattern in _INVALID_LEVEL:
        for found in pattern.finditer(plain):
            word = found.group(1).lower()
            if word not in _NOT_A_LEVEL_VALUE and not word.isdigit():
                return LevelReading(invalid=word)
    return LevelReading()


def bare_level(text: str) -> LevelReading:
    """An answer to "which level?": a level, or the word given instead of one."""
    reading = level_in(text)
    if reading.value or reading.invalid:
        return reading
    words = re.findall(r"[A-Za-z-]+", text)
    if 1 <= len(words) <= 2 and re.fullmatch(LEVEL_LIKE, words[-1], re.I):
        return LevelReading(invalid=words[-1].lower())
    return reading


def weeks_in(text: str) -> int | None:
    m = WEEKS.search(text)
    if m:
        return int(m.group(1))
    m = MONTHS.search(text)
    return round(int(m.group(1)) * 52 / 12) if m else None


def students_cap_in(text: str) -> int | None:
    m = STUDENTS_CAP.search(text)
    return int(m.group(1)) if m else None


def audience_in(text: str) -> str | None:
    m = AUDIENCE.search(without_names(text))
    return tidy(m.group(0)[m.start(1) - m.start() :]) if m else None


def covers_in(text: str) -> str | None:
    m = COVERS.search(without_names(text))
    if not m:
        return None
    value = tidy(m.group(1))
    return value if len(value) >= 3 and not re.fullmatch(ANY_KIND, value, re.I) else None


def mentioned(text: str, names: Iterable[str]) -> str | None:
    """The longest of the known names the text mentions (case and spacing do not count)."""
    flat = " ".join(text.split())
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        pattern = r"\s+".join(re.escape(word) for word in name.split())
        if re.search(rf"(?<!\w){pattern}(?!\w)", flat, re.IGNORECASE):
            return name
    return None


def _usable(found: str | None, kind: str) -> str | None:
    if not found:
        return None
    name = strip_kind(found, (kind,))
    if (
        not name
        or LEVEL_WORD.fullmatch(name)
        or EMAIL.search(name)
        or OTHER.match(name)
        or re.fullmatch(r"(?:it|there|here|them|this|that|one|me|us|\d+\s*\w*)", name, re.I)
        or re.match(r"^(?:organi[sz]ation|org|team|platform|the\s+org)\b", name, re.I)
    ):
        return None
    return name


# A name read after its kind word ("track Python for Data Analysis") runs until a clear boundary:
# punctuation, an email, "called", "as", "instead", "with", or a new container ("in the ...").
_NAME_AFTER_KIND = (
    r"((?:(?!\s(?:called|named|as|instead|please|with|starting|lasting|covering|aimed|targeted|so|but"
    r"|and\s+(?:make|set|call|name|give|enrol|enroll|add|publish|assign|then|also)"
    r"|(?:in|into|to|under|within|for|onto|inside)\s+(?:the|a|an|project|track|course|program|organi[sz]ation)\b)"
    r"\b)[^,.;!?@()])+)"
)
_NO_NEW_CONTAINER = r"(?:(?!\b(?:in|into|to|under|within|onto|inside)\s+the\b)[^,.;!?@()])"


def _cut_known(name: str, known: Iterable[str]) -> str:
    """ "Python Basics in Data Science Foundations" -> "Python Basics" when the tail is a known project."""
    for project in known:
        m = re.search(
            rf"\s+(?:in|into|under|within|of|from|for)\s+(?:the\s+)?{re.escape(project)}$", name, re.I
        )
        if m:
            return name[: m.start()]
    return name


def name_after_kind(text: str, kind: str) -> str | None:
    """ "delete the course Model Evaluation and Tuning" -> "Model Evaluation and Tuning": a name read
    after its kind word runs to a clear boundary, not to the first "and"."""
    m = re.search(rf"\b{KIND[kind]}\s+(?:called\s+|named\s+)?{_NAME_AFTER_KIND}", text, re.IGNORECASE)
    if not m:
        return None
    name = clean_name(m.group(1))
    return name if name and not re.fullmatch(r"(?:it|this|that|one|\d+)", name, re.I) else None


def container(text: str, kind: str, known: Iterable[str] = (), *, generic: bool = True) -> str | None:
    """The name of the `kind` something goes in: "into Cloud Engineering Pathway", "to the Python
    track", "under project X", "within X", or a known project mentioned anywhere."""
    known = [k for k in known if k]
    if kind == "project":
        hit = mentioned(text, known)
        if hit:
            return hit
    plain = without_names(text)
    k = KIND[kind]
    preps = CONTAINER_PREPS
    readings = (
        # "in track X", "to the project called X"
        rf"\b(?:{preps})\s+(?:the\s+)?{k}\s+(?:called\s+|named\s+)?{_NAME_AFTER_KIND}",
        # "to the Python for Data Analysis track"
        rf"\b(?:{preps})\s+the\s+({_NO_NEW_CONTAINER}+?)\s+{k}\b",
        # "in Python Fundamentals track"
        rf"\b(?:{preps})\s+((?:(?!\b(?:{preps})\s)[^,.;!?@()])+?)\s+{k}\b",
    )
    for pattern in readings:
        for m in re.finditer(pattern, plain, re.IGNORECASE):
            name = _usable(_cut_known(clean_name(m.group(1)), known), kind)
            if name:
                return name
    if not generic:
        return None
    preps = GENERIC_PREPS + (r"|to" if ADDING_VERB.search(plain) else "")
    for m in re.finditer(rf"\b(?:{preps})\s+(?:the\s+)?(.+?){_TAIL}", plain, re.IGNORECASE):
        name = _usable(m.group(1), kind)
        if name and not re.search(rf"\b{ANY_KIND}\b", name, re.I):
            return name
    return None


def wants_other(text: str, kind: str) -> bool:
    """ "no, in the other project", "a different track": the user names no name, only "not that one"."""
    return bool(re.search(rf"\b(?:other|another|different)\s+(?:one|{KIND[kind]})\b", text, re.IGNORECASE))


def describe(covers: str | None, audience: str | None, weeks: int | None) -> str:
    """A description in the user's own words: what it covers, for whom, how long."""
    parts = []
    if covers:
        parts.append(f"Covers {covers}.")
    if audience:
        parts.append(f"For {audience}.")
    if weeks:
        parts.append(f"Runs {weeks} weeks.")
    return " ".join(parts)


def as_sentence(text: str) -> str:
    value = tidy(text)
    if not value:
        return ""
    value = value[0].upper() + value[1:]
    return value if value.endswith((".", "!", "?")) else value + "."
