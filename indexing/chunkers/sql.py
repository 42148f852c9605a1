"""SQL migrations by statement, each with the comments written just above it.

Migrations are where tables, enums and constraints are defined ("which kinds of meeting rooms
exist?"), so a CREATE TABLE / CREATE TYPE keeps its object name as the symbol. Statement ends are
found with a small scanner that knows about strings, comments and dollar-quoted function bodies.
"""

from __future__ import annotations

import re

from indexing.chunk import Piece

_OBJECT = re.compile(
    r"^\s*(?P<verb>create|alter|drop|insert\s+into|update|delete\s+from|comment\s+on|grant)\s+"
    r"(?:or\s+replace\s+)?(?:unique\s+)?(?:temporary\s+|temp\s+)?"
    r"(?P<what>table|type|index|view|materialized\s+view|function|trigger|sequence|schema|extension|"
    r"policy|domain|column|constraint)?\s*(?:if\s+(?:not\s+)?exists\s+)?(?P<name>[\w.\"]+)?",
    re.IGNORECASE,
)


def statement_ranges(text: str) -> list[tuple[int, int]]:
    """(start_offset, end_offset) of each statement, ';' included."""
    ranges: list[tuple[int, int]] = []
    i, n, start = 0, len(text), 0
    while i < n:
        c = text[i]
        if c == "-" and text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c in ("'", '"'):
            j = i + 1
            while j < n:
                if text[j] == c:
                    if j + 1 < n and text[j + 1] == c:  # escaped quote
                        j += 2
                        continue
                    break
                j += 1
            i = j + 1
        elif c == "$":
            m = re.match(r"\$[A-Za-z_]*\$", text[i:])
            if m:
                tag = m.group(0)
                j = text.find(tag, i + len(tag))
                i = n if j < 0 else j + len(tag)
            else:
                i += 1
        elif c == ";":
            ranges.append((start, i + 1))
            start = i + 1
            i += 1
        else:
            i += 1
    if text[start:].strip():
        ranges.append((start, n))
    return ranges


def sql_pieces(text: str, lines: list[str]) -> list[Piece]:
    line_starts = [0]
    for line in lines:
        line_starts.append(line_starts[-1] + len(line) + 1)

    def line_of(offset: int) -> int:
        lo, hi = 0, len(line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    pieces: list[Piece] = []
    for start, end in statement_ranges(text):
        body = text[start:end]
        if not body.strip() or not body.strip().strip(";").strip():
            continue
        lead = len(body) - len(body.lstrip())
        first = line_of(start + lead)
        last = line_of(max(start, end - 1))
        statement = _strip_comments(body)
        m = _OBJECT.match(statement)
        symbol, unit, meta = "", "statement", {}
        if m:
            verb = " ".join(m["verb"].lower().split())
            what = " ".join((m["what"] or "").lower().split())
            name = (m["name"] or "").strip('"')
            unit = f"{verb} {what}".strip()
            symbol = name
            meta = {"sql": unit}
        big = verb_is_definition(unit)
        pieces.append(
            Piece(unit if big else "statement", symbol, first, last, meta, merge_key=None if big else "stmts")
        )
    return pieces or [Piece("statement", "", 1, len(lines))]


def verb_is_definition(unit: str) -> bool:
    return unit.startswith("create") and any(
        w in unit for w in ("table", "type", "view", "function", "domain")
    )


def _strip_comments(sql: str) -> str:
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.DOTALL)
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines()).strip()
