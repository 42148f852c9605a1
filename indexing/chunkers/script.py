"""TypeScript/JavaScript by top-level declaration; HTML, shell and plain text by size.

No JS parser ships with the product, and front-end files are mostly one declaration after another
at column 0 (`export const trackService = {...}`, `function CreateTrackModal()`), so a declaration
runs from its first line (with the JSDoc above it) to the line before the next top-level
declaration. The symbol is the declared name; API paths called with fetch/axios are recorded so a
front-end service file answers "which endpoint does the UI call".
"""

from __future__ import annotations

import re

from indexing.chunk import Piece

_DECL = re.compile(
    r"^(?:export\s+(?:default\s+)?)?(?:declare\s+)?(?:async\s+)?"
    r"(?P<kind>function\*?|class|const|let|var|interface|type|enum|abstract\s+class|namespace|module)"
    r"\s+(?P<name>[A-Za-z_$][\w$]*)"
)
_EXPORT_DEFAULT = re.compile(r"^export\s+default\s+(?P<name>[A-Za-z_$][\w$]*)?")
_IMPORT = re.compile(r"^(import\s|export\s+\*|export\s+\{[^}]*\}\s+from)")
_API_PATH = re.compile(r"""["'`](/api/[^"'`\s]*|/v\d/[^"'`\s]*)["'`]""")


def script_pieces(lines: list[str]) -> list[Piece]:
    starts: list[tuple[int, str, str]] = []  # (line, unit, symbol)
    for i, line in enumerate(lines, 1):
        if not line or line[0] in " \t}/*)]":
            continue
        if _IMPORT.match(line):
            starts.append((i, "imports", ""))
            continue
        m = _DECL.match(line)
        if m:
            kind = m["kind"].split()[-1].rstrip("*")
            starts.append(
                (i, kind if kind in ("class", "interface", "type", "enum") else "declaration", m["name"])
            )
            continue
        m2 = _EXPORT_DEFAULT.match(line)
        if m2:
            starts.append((i, "declaration", m2["name"] or "default"))
    if not starts:
        return [Piece("block", "", 1, len(lines))]
    # Each declaration starts at its doc comment and decorators (@Injectable(), @Component({...})
    # in Angular/NestJS code): walk up over comment and decorator lines.
    firsts = []
    floor = 0
    for line_no, _, _ in starts:
        first = line_no
        while first - 1 > floor and lines[first - 2].lstrip().startswith(("/**", "*", "//", "*/", "@")):
            first -= 1
        firsts.append(first)
        floor = line_no
    pieces: list[Piece] = []
    if firsts[0] > 1 and any(line.strip() for line in lines[: firsts[0] - 1]):
        pieces.append(Piece("block", "", 1, firsts[0] - 1, merge_key="top"))
    for idx, (_, unit, name) in enumerate(starts):
        first = firsts[idx]
        end = firsts[idx + 1] - 1 if idx + 1 < len(starts) else len(lines)
        body = "\n".join(lines[first - 1 : end])
        meta: dict[str, object] = {}
        api = list(dict.fromkeys(_API_PATH.findall(body)))
        if api:
            meta["api_paths"] = api[:20]
        merge = "imports" if unit == "imports" else ("small" if end - first < 15 else None)
        pieces.append(Piece(unit, name, first, end, meta, merge_key=merge))
    return pieces


def line_pieces(lines: list[str], unit: str = "lines") -> list[Piece]:
    """The fallback: the whole file as one piece; the sizer cuts it into windows that fit."""
    return [Piece(unit, "", 1, len(lines))]
