"""Remove credentials from text before it is indexed.

Indexed text is shown to users and sent to an LLM provider, so a token committed by mistake would
leak twice. Known token formats are replaced wherever they appear; generic `password = "..."`
style assignments are replaced only when the value is a literal that does not look like a
placeholder or an environment lookup, so that code such as `password: str` or
`os.getenv("DB_PASSWORD")` stays searchable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REDACTED = "[REDACTED]"

# Token formats with a recognisable shape.
_TOKEN_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "private key",
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
    ),
    ("aws access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("github token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})\b")),
    ("slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("anthropic key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}")),
    ("openai key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}")),
    ("google api key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("stripe key", re.compile(r"\b(?:sk|rk)_live_[0-9A-Za-z]{20,}\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
]

# user:password@ in connection strings.
_URL_CREDENTIALS = re.compile(
    # the password runs to the last '@' before the host: "p@ss" in user:p@ss@host is all secret
    r"(?P<scheme>(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://)(?P<user>[^\s:/@'\"]+):(?P<pw>[^\s/'\"]+)@"
)

# name = "value" / name: value / "name": "value" where the name says it is a secret.
_SECRET_NAME = r"[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|api[_-]?key|apikey|access[_-]?key|private[_-]?key|token)[A-Za-z0-9_]*"
# Names that always hold a credential; a bare "token" may hold a token type ("bearer") or a name.
_STRONG_NAME = re.compile(
    r"password|passwd|pwd|secret|api[_-]?key|apikey|access[_-]?key|private[_-]?key", re.I
)
_ASSIGNMENT = re.compile(
    r"""(?P<lead>(?<![A-Za-z0-9_.-])["']?(?P<name>""" + _SECRET_NAME + r""")["']?\s*(?:=|:|=>)\s*)"""
    # the value may hold the other quote and escaped ones: "it's-a-secret", "abc\"def"
    r"""(?P<quote>["'])(?P<value>(?:\\.|(?!(?P=quote))[^\\\n]){6,})(?P=quote)""",
    re.IGNORECASE,
)
_YAML_PLAIN = re.compile(
    r"""^(?P<lead>[ \t-]*(?P<name>"""
    + _SECRET_NAME
    # '#' starts a comment only after a space: "Xk9#mP2" is one value, "x  # note" a comment
    + r""")[ \t]*:[ \t]+)(?P<value>[^\s#"'{}\[\]]\S{5,}?)(?P<tail>[ \t]+#.*)?[ \t]*$""",
    re.IGNORECASE | re.MULTILINE,
)
# An INI / properties / dotenv line: `password = value` at column 0 with an unquoted value. In
# Python the same shape is an assignment from a name, which _CODE_VALUE lets through.
_INI_PLAIN = re.compile(
    r"""^(?P<lead>(?P<name>"""
    + _SECRET_NAME
    + r""")[ \t]*=[ \t]*)(?P<value>[^\s"'`]\S{3,})(?P<tail>[ \t]+[#;].*)?[ \t]*$""",
    re.IGNORECASE,
)
# Placeholders: prefixes (`${`, `{{`, `os.`, `your-...`) anywhere, and whole words ("test",
# "none", "example-key"), but a secret that merely starts with such a word ("Str0ngP@ss",
# "Test1234!") is a secret.
_PLACEHOLDER = re.compile(
    r"""^(?:\$\{?[A-Z_]|\{\{|<|%\(|os\.|env\(|process\.env|getenv|changeme|change[-_]me|your[-_ ]|xxx|\*\*\*
    |(?:example|placeholder|dummy|redacted|none|null|true|false|str|string|optional|required|test|secret
    |password)(?![A-Za-z0-9]))""",
    re.IGNORECASE | re.VERBOSE,
)
_CODE_VALUE = re.compile(
    r"""[()\[\]{}"'`]            # a call, a subscript, a literal
    | ^[A-Za-z_]\w*(?:\.\w+)+$   # attribute access: form.password.data
    | ^[a-z]+(?:_[a-z0-9]+)+$      # a snake_case name: new_password
    | ^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$  # a CONSTANT_NAME
    | ^\d+(?:\.\d+)?$            # a number: a length or a lifetime, not a credential
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Redaction:
    text: str
    count: int


def _looks_random(value: str) -> bool:
    """A long value mixing character classes: a token, not a word or a path."""
    if len(value) < 16 or "/" in value or " " in value:
        return False
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    return classes >= 2


def _is_secret_value(name: str, value: str) -> bool:
    if REDACTED in value or _is_placeholder(value) or " " in value.strip():
        return False
    if _STRONG_NAME.search(name):
        return True
    return _looks_random(value)


def _is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(value.strip())) or value.strip().startswith(('f"', "f'"))


# Cheap tests that rule most lines out before the expensive patterns run.
_NAME_HINT = re.compile(r"passw|pwd|secret|api[_-]?key|apikey|access[_-]?key|private[_-]?key|token", re.I)
_TOKEN_HINT = re.compile(r"AKIA|ASIA|gh[pousr]_|github_pat_|xox[abposr]-|sk-|AIza|_live_|eyJ")


def redact(text: str) -> Redaction:
    """Return the text with secrets replaced by [REDACTED], and how many were replaced.

    Line numbers never change: a redacted multi-line key keeps its line breaks.
    """
    count = 0
    if "PRIVATE KEY" in text:
        text, n = _redact_private_keys(text)
        count += n
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _TOKEN_HINT.search(line) or "://" in line or _NAME_HINT.search(line):
            lines[i], n = _redact_line(line)
            count += n
    return Redaction("\n".join(lines), count)


def _redact_private_keys(text: str) -> tuple[str, int]:
    pattern = _TOKEN_PATTERNS[0][1]
    found = len(pattern.findall(text))
    return pattern.sub(lambda m: REDACTED + "\n" * m[0].count("\n"), text), found


def _redact_line(text: str) -> tuple[str, int]:
    count = 0

    def sub_token(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return REDACTED

    for _, pattern in _TOKEN_PATTERNS[1:]:
        text = pattern.sub(sub_token, text)

    def sub_url(match: re.Match[str]) -> str:
        nonlocal count
        if _is_placeholder(match["pw"]) or match["pw"] == REDACTED:
            return match[0]
        count += 1
        return f"{match['scheme']}{match['user']}:{REDACTED}@"

    text = _URL_CREDENTIALS.sub(sub_url, text)

    def sub_assignment(match: re.Match[str]) -> str:
        nonlocal count
        if not _is_secret_value(match["name"], match["value"]):
            return match[0]
        count += 1
        return f"{match['lead']}{match['quote']}{REDACTED}{match['quote']}"

    text = _ASSIGNMENT.sub(sub_assignment, text)

    def sub_yaml(match: re.Match[str]) -> str:
        nonlocal count
        if not _is_secret_value(match["name"], match["value"]):
            return match[0]
        count += 1
        return f"{match['lead']}{REDACTED}{match['tail'] or ''}"

    text = _YAML_PLAIN.sub(sub_yaml, text)

    def sub_ini(match: re.Match[str]) -> str:
        nonlocal count
        value = match["value"]
        if _CODE_VALUE.search(value) or not _is_secret_value(match["name"], value):
            return match[0]
        count += 1
        return f"{match['lead']}{REDACTED}{match['tail'] or ''}"

    text = _INI_PLAIN.sub(sub_ini, text)
    return text, count
