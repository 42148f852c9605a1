"""Remove credentials from text before it is indexed.

Indexed text is shown to users and sent to an LLM provider, so a token committed by mistake would
leak twice. Known token formats are replaced wherever they appear, recognised by their prefixes
(sk-live-..., sk_live_..., ghp_..., AKIA..., xox?-..., AIza..., eyJ... JWTs, private key blocks),
however short. An assignment to a secret-named variable (`password`, `DB_PASSWORD`, `API_KEY`,
`REDIS_PASS`, `GITHUB_TOKEN`, ...) is replaced whatever the value's length and whatever the file
kind: `ENV DB_PASSWORD=...` in a Dockerfile, `- POSTGRES_PASSWORD=...` in a compose file,
`export API_KEY=...` in Markdown, `PASSWORD 'x'` in SQL, `"password": "x"` in JSON. Values that
are placeholders or environment lookups (`${DB_PASSWORD}`, `<your key>`, `changeme`, a file path)
stay, and in code (Python, TypeScript, JavaScript) an unquoted value is an expression, not a
secret, so `password: str`, `login(password=password)` and `os.getenv("DB_PASSWORD")` stay
searchable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REDACTED = "[REDACTED]"

# The tail of a key after its prefix: 16+ characters of the class, or 4+ with a digit among them.
_TAIL = r"(?:[{c}]{{16,}}|(?=[{c}]{{0,40}}?\d)[{c}]{{4,}})"

# Token formats with a recognisable shape.
_TOKEN_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "private key",
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----"
        ),
    ),
    ("aws access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{12,}\b")),
    # A prefix with a short tail is a key when the tail has a digit (names such as hf_token or
    # xapp-config have none); a long tail is a key whatever it holds.
    (
        "github token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{4,}|github_pat_" + _TAIL.format(c="A-Za-z0-9_") + r")"),
    ),
    ("gitlab token", re.compile(r"\bglpat-" + _TAIL.format(c="A-Za-z0-9_-"))),
    ("slack token", re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{4,}|\bxapp-" + _TAIL.format(c="A-Za-z0-9-"))),
    # sk-live-..., sk-test-..., sk-ant-..., sk-proj-...: any length after the prefix; a bare
    # "sk-" needs a long random tail (prose has "sk-" inside words only, which \b rules out)
    ("api key", re.compile(r"\bsk-(?:live|test|ant|proj|or|svcacct|admin)-[A-Za-z0-9_-]{3,}")),
    ("openai key", re.compile(r"\bsk-[A-Za-z0-9_-]{20,}")),
    ("google api key", re.compile(r"\bAIza" + _TAIL.format(c="0-9A-Za-z_-"))),
    ("stripe key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{3,}")),
    ("hugging face token", re.compile(r"\bhf_" + _TAIL.format(c="A-Za-z0-9"))),
    ("npm token", re.compile(r"\bnpm_[A-Za-z0-9]{30,}")),
    ("pypi token", re.compile(r"\bpypi-AgE[A-Za-z0-9_-]{20,}")),
    ("sendgrid key", re.compile(r"\bSG\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")),
]

# user:password@ in connection strings.
_URL_CREDENTIALS = re.compile(
    # the password runs to the last '@' before the host: "p@ss" in user:p@ss@host is all secret
    r"(?P<scheme>(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://)(?P<user>[^\s:/@'\"]+):(?P<pw>[^\s/'\"]+)@"
)

# name = "value" / name: value / "name": "value" where the name says it is a secret.
_SECRET_NAME = (
    r"[A-Za-z0-9_.-]*(?:password|passwd|pwd|passphrase|secret|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|signing[_-]?key|encryption[_-]?key|auth[_-]?key|token"
    r"|[_-]pass(?![A-Za-z]))[A-Za-z0-9_]*"
)
# Names that always hold a credential; a bare "token" may hold a token type ("bearer") or a name,
# but GITHUB_TOKEN, api_token, accessToken and the like are credentials.
_STRONG_NAME = re.compile(
    r"password|passwd|pwd|passphrase|secret|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
    r"|signing[_-]?key|encryption[_-]?key|auth[_-]?key|[_-]pass(?![A-Za-z])"
    r"|(?:access|auth|api|refresh|session|bot|bearer|personal|github|gh|gitlab|slack|npm|pypi|hf)[_-]?token",
    re.I,
)
_STRONG_UPPER = re.compile(r"^[A-Z0-9_]+_TOKEN$")  # case matters: DEPLOY_TOKEN, not page_token
# Names of quantities and switches about secrets, not secrets: password_min_length: 8.
_QUANTITY_NAME = re.compile(
    r"len|length|min|max|size|count|ttl|timeout|expir|age|rounds|iterations|port|attempts|days"
    r"|hours|minutes|seconds|limit|retries|lifetime|enabled|required|file|path|url|type|header",
    re.I,
)
_ASSIGNMENT = re.compile(
    r"""(?P<lead>(?<![A-Za-z0-9_.-])["']?(?P<name>""" + _SECRET_NAME + r""")["']?\s*(?:=|:|=>)\s*)"""
    # the value may hold the other quote and escaped ones: "it's-a-secret", "abc\"def"
    r"""(?P<quote>["'])(?P<value>(?:\\.|(?!(?P=quote))[^\\\n])+)(?P=quote)""",
    re.IGNORECASE,
)
_YAML_PLAIN = re.compile(
    r"""^(?P<lead>[ \t-]*(?P<name>"""
    + _SECRET_NAME
    # '#' starts a comment only after a space: "Xk9#mP2" is one value, "x  # note" a comment
    + r""")[ \t]*:[ \t]+)(?P<value>[^\s#"'{}\[\]]\S*?)(?P<tail>[ \t]+#.*)?[ \t]*$""",
    re.IGNORECASE | re.MULTILINE,
)
# An INI / properties / dotenv line: `password = value` at column 0 with an unquoted value. In
# Python the same shape is an assignment from a name, which _CODE_VALUE lets through.
_INI_PLAIN = re.compile(
    r"""^(?P<lead>(?P<name>"""
    + _SECRET_NAME
    + r""")[ \t]*=[ \t]*)(?P<value>[^\s"'`]\S*)(?P<tail>[ \t]+[#;].*)?[ \t]*$""",
    re.IGNORECASE,
)
# NAME=value with nothing around the '=': shell and dotenv (`export API_KEY=...`), Dockerfiles
# (`ENV DB_PASSWORD=...`), compose environment lists (`- POSTGRES_PASSWORD=...`), `docker run -e`,
# command-line flags (`--password=...`), libpq strings (`password=... host=...`), anywhere on a line.
_ENV_ASSIGNMENT = re.compile(
    r"""(?P<lead>(?<![A-Za-z0-9_.])(?P<name>""" + _SECRET_NAME + r""")=)(?P<value>[^\s"'`;,()\[\]<>|&]+)""",
    re.IGNORECASE,
)
# The Dockerfile's legacy form without '=': `ENV DB_PASSWORD hunter2`.
_DOCKER_ENV = re.compile(
    r"""^(?P<lead>[ \t]*(?:ENV|ARG)[ \t]+(?P<name>""" + _SECRET_NAME + r""")[ \t]+)(?P<value>[^\s=]\S*)""",
    re.IGNORECASE,
)
# SQL: CREATE USER ... PASSWORD 'x', ALTER ROLE ... PASSWORD 'x', MySQL's IDENTIFIED BY 'x'.
_SQL_PASSWORD = re.compile(
    r"""(?P<lead>\b(?:PASSWORD|IDENTIFIED\s+BY)\s+)'(?P<value>[^'\n]+)'""", re.IGNORECASE
)
# File kinds whose unquoted right-hand sides are expressions (names, calls), never literals.
CODE_KINDS = frozenset({"python", "typescript", "javascript"})
# Placeholders: prefixes (`${`, `{{`, `os.`, `your-...`) anywhere, and whole words ("test",
# "none", "example-key"), but a secret that merely starts with such a word ("Str0ngP@ss",
# "Test1234!") is a secret.
_PLACEHOLDER = re.compile(
    r"""^(?:\\?\$|\{|<|%[(sdr]|os\.|env\(|process\.env|getenv|changeme|change[-_]me|your[-_ ]|xxx|\*\*\*|\.\.\.|…
    |/[\w./-]*$|https?://[^@]*$
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
    if REDACTED in value or _is_placeholder(value) or " " in value.strip() or not value.strip():
        return False
    if re.fullmatch(r"\d+(?:\.\d+)?[smhd]?", value.strip().rstrip(",;")) and _QUANTITY_NAME.search(name):
        return False  # password_min_length: 8, token_ttl: 3600
    if _STRONG_NAME.search(name) or _STRONG_UPPER.match(name.strip("\"'")):
        return True
    return _looks_random(value)


# Example values shown in docs and tests: "sk-...", "your_key_here", "mock-token", "<...>".
_PLACEHOLDER_ANYWHERE = re.compile(
    r"\.\.\.|…|your[-_ ]|[-_]here$|example|placeholder|dummy|mock|fake|sample|xxxx", re.IGNORECASE
)
_CONSTANT = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")  # INVALID_TOKEN = "INVALID_TOKEN"
# In code, an unquoted value without digits is a name, a type or an expression (SecretStr,
# formData.password, constr(min_length=8), boolean;), not a literal.
_CODE_EXPRESSION = re.compile(r"^[A-Za-z_$][A-Za-z_$.]*[,;]?$|[(\[<{]")


def _is_placeholder(value: str) -> bool:
    value = value.strip().rstrip(",;")
    return (
        bool(_PLACEHOLDER.match(value))
        or value.startswith(('f"', "f'"))
        or bool(_PLACEHOLDER_ANYWHERE.search(value))
        or bool(_CONSTANT.match(value))
        or not re.search(r"[A-Za-z0-9]", value)
        or bool(re.fullmatch(r"\d{1,3}", value))  # a count or a switch: UNIT_PASS=0
    )


# Cheap tests that rule most lines out before the expensive patterns run.
_NAME_HINT = re.compile(
    r"passw|pwd|passphrase|secret|api[_-]?key|apikey|access[_-]?key|private[_-]?key|signing[_-]?key"
    r"|encryption[_-]?key|auth[_-]?key|token|[_-]pass(?![a-z])|identified",
    re.I,
)
_TOKEN_HINT = re.compile(
    r"AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox[abposre]-|xapp-|sk-|sk_|rk_|AIza|hf_|npm_|pypi-|SG\.|eyJ"
)


def redact(text: str, kind: str | None = None) -> Redaction:
    """Return the text with secrets replaced by [REDACTED], and how many were replaced.

    `kind` is the file's kind (python, markdown, yaml, ...): in code, an unquoted right-hand side
    is an expression and is kept; elsewhere it is a literal. Line numbers never change: a redacted
    multi-line key keeps its line breaks.
    """
    count = 0
    if "PRIVATE KEY" in text:
        text, n = _redact_private_keys(text)
        count += n
    code = kind in CODE_KINDS
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _TOKEN_HINT.search(line) or "://" in line or _NAME_HINT.search(line):
            lines[i], n = _redact_line(line, code)
            count += n
    return Redaction("\n".join(lines), count)


def _redact_private_keys(text: str) -> tuple[str, int]:
    pattern = _TOKEN_PATTERNS[0][1]
    found = len(pattern.findall(text))
    return pattern.sub(lambda m: REDACTED + "\n" * m[0].count("\n"), text), found


def _redact_line(text: str, code: bool = False) -> tuple[str, int]:
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

    def sub_sql(match: re.Match[str]) -> str:
        nonlocal count
        if _is_placeholder(match["value"]) or REDACTED in match["value"]:
            return match[0]
        count += 1
        return f"{match['lead']}'{REDACTED}'"

    text = _SQL_PASSWORD.sub(sub_sql, text)

    def sub_env(match: re.Match[str]) -> str:
        nonlocal count
        value = match["value"]
        if code and _CODE_EXPRESSION.search(value):  # login(password=password): a name
            return match[0]
        if not _is_secret_value(match["name"], value):
            return match[0]
        count += 1
        return f"{match['lead']}{REDACTED}"

    text = _ENV_ASSIGNMENT.sub(sub_env, text)
    text = _DOCKER_ENV.sub(sub_env, text)

    def sub_yaml(match: re.Match[str]) -> str:
        nonlocal count
        if code and _CODE_EXPRESSION.search(match["value"]):  # password: SecretStr
            return match[0]
        if not _is_secret_value(match["name"], match["value"]):
            return match[0]
        count += 1
        return f"{match['lead']}{REDACTED}{match['tail'] or ''}"

    text = _YAML_PLAIN.sub(sub_yaml, text)

    def sub_ini(match: re.Match[str]) -> str:
        nonlocal count
        value = match["value"]
        if (code and _CODE_EXPRESSION.search(value)) or _CODE_VALUE.search(value):
            return match[0]
        if not _is_secret_value(match["name"], value):
            return match[0]
        count += 1
        return f"{match['lead']}{REDACTED}{match['tail'] or ''}"

    text = _INI_PLAIN.sub(sub_ini, text)
    return text, count
