"""Configuration files by top-level block: YAML keys, TOML tables, INI sections, JSON keys.

A config answer ("how strict is the login rate limit in production?") lives in one block, and the
block's key path is what a person would search for, so it becomes the symbol. OpenAPI specs are
split per operation instead, so each endpoint is its own citation.
"""

from __future__ import annotations

import json
import re

import yaml

from indexing.chunk import Piece

_YAML_TOP = re.compile(r"^([A-Za-z0-9_\"'.-][^:#]*?)\s*:(\s|$)")
_TOML_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_INI_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*(;.*|#.*)?$")


def yaml_pieces(text: str, lines: list[str]) -> list[Piece]:
    api = _openapi_pieces_yaml(text, lines)
    if api:
        return api
    return _blocks_by_top_level(lines, _YAML_TOP, nested=True)


def toml_pieces(lines: list[str]) -> list[Piece]:
    return _blocks_by_header(lines, _TOML_TABLE)


def ini_pieces(lines: list[str]) -> list[Piece]:
    return _blocks_by_header(lines, _INI_SECTION)


def json_pieces(text: str, lines: list[str]) -> list[Piece] | None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(data, dict) and ("openapi" in data or "swagger" in data):
        ops = _openapi_pieces_json(data, lines)
        if ops:
            return ops
    if not isinstance(data, dict) or len(lines) < 3:
        return [Piece("block", "", 1, len(lines))]
    # Top-level keys sit at the first indentation level inside the outer braces.
    pieces: list[Piece] = []
    key_line = re.compile(r'^(\s*)"((?:[^"\\]|\\.)*)"\s*:')
    indents = [len(m.group(1)) for line in lines if (m := key_line.match(line))]
    if not indents:
        return [Piece("block", "", 1, len(lines))]
    top_indent = min(indents)
    starts = [
        (i, m.group(2))
        for i, line in enumerate(lines, 1)
        if (m := key_line.match(line)) and len(m.group(1)) == top_indent
    ]
    if not starts:
        return [Piece("block", "", 1, len(lines))]
    for idx, (line_no, key) in enumerate(starts):
        end = starts[idx + 1][0] - 1 if idx + 1 < len(starts) else len(lines)
        first = 1 if idx == 0 else line_no
        pieces.append(Piece("block", key, first, end, merge_key="json"))
    return pieces


def _blocks_by_top_level(lines: list[str], pattern: re.Pattern[str], nested: bool) -> list[Piece]:
    """Split at lines that start a top-level key; comments just above a key belong to it."""
    starts: list[tuple[int, str]] = []
    for i, line in enumerate(lines, 1):
        if line[:1] in (" ", "\t", "#", "-", "") or line.startswith("---"):
            continue
        m = pattern.match(line)
        if m:
            starts.append((i, m.group(1).strip("\"'")))
    if not starts:
        return [Piece("block", "", 1, len(lines))]
    pieces = []
    for idx, (line_no, key) in enumerate(starts):
        first = line_no
        while first - 1 >= 1 and lines[first - 2].lstrip().startswith("#"):
            first -= 1
        if idx == 0:
            first = 1
        end = starts[idx + 1][0] - 1 if idx + 1 < len(starts) else len(lines)
        # the comments above the next key belong to the next key
        nxt = starts[idx + 1][0] if idx + 1 < len(starts) else None
        if nxt is not None:
            while end > first and lines[end - 1].lstrip().startswith("#") and end < nxt:
                end -= 1
        pieces.append(Piece("block", key, first, max(first, end), merge_key="config"))
    return _fix_gaps(pieces, len(lines))


def _blocks_by_header(lines: list[str], header: re.Pattern[str]) -> list[Piece]:
    starts = [(i, m.group(1).strip()) for i, line in enumerate(lines, 1) if (m := header.match(line))]
    pieces = []
    if not starts or starts[0][0] > 1:
        first_end = starts[0][0] - 1 if starts else len(lines)
        if any(line.strip() for line in lines[:first_end]):
            pieces.append(Piece("block", "", 1, first_end, merge_key="config"))
    for idx, (line_no, name) in enumerate(starts):
        end = starts[idx + 1][0] - 1 if idx + 1 < len(starts) else len(lines)
        pieces.append(Piece("block", name, line_no, end, merge_key="config"))
    return pieces


def _fix_gaps(pieces: list[Piece], total: int) -> list[Piece]:
    """Make consecutive pieces cover the file without holes (comments between blocks)."""
    out = []
    for idx, p in enumerate(pieces):
        end = pieces[idx + 1].start - 1 if idx + 1 < len(pieces) else total
        out.append(Piece(p.unit, p.symbol, p.start, max(p.start, end), p.metadata, p.merge_key))
    return out


def _openapi_pieces_yaml(text: str, lines: list[str]) -> list[Piece] | None:
    head = text[:2000]
    if not re.search(r"^(openapi|swagger)\s*:", head, re.MULTILINE):
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("paths"), dict):
        return None
    return _operations(data, lines, quoted=False)


def _openapi_pieces_json(data: dict[str, object], lines: list[str]) -> list[Piece] | None:
    if not isinstance(data.get("paths"), dict):
        return None
    return _operations(data, lines, quoted=True)


def _operations(data: dict[str, object], lines: list[str], quoted: bool) -> list[Piece] | None:
    """One piece per path, located by finding the path key's line; symbol "METHOD /path"."""
    paths = data["paths"]
    assert isinstance(paths, dict)
    located: list[tuple[int, str, list[str]]] = []
    search_from = 0
    for path, item in paths.items():
        needle = f'"{path}"' if quoted else f"{path}:"
        for i in range(search_from, len(lines)):
            stripped = lines[i].strip()
            if (
                stripped.startswith(needle)
                or stripped.startswith(f"'{path}':")
                or stripped.startswith(f'"{path}":')
            ):
                methods = [m.upper() for m in item] if isinstance(item, dict) else []
                located.append((i + 1, str(path), methods))
                search_from = i + 1
                break
    if not located:
        return None
    pieces = [Piece("block", "openapi", 1, located[0][0] - 1, merge_key=None)] if located[0][0] > 1 else []
    for idx, (line_no, path, methods) in enumerate(located):
        end = located[idx + 1][0] - 1 if idx + 1 < len(located) else len(lines)
        ops = [m for m in methods if m.lower() in ("get", "post", "put", "patch", "delete")]
        route = f"{'|'.join(ops)} {path}" if ops else path
        pieces.append(Piece("operation", path, line_no, end, {"route": route}, merge_key=None))
    return pieces
