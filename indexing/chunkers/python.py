"""Python by module, class and function, with FastAPI/Flask routes surfaced.

Questions about a platform name endpoints ("the API call to enroll students"), so a route handler's
HTTP method and full path (router prefix included) go into the chunk's metadata and header, where
both the lexical and the dense index see them. Methods keep their class name as the symbol so a
hit on `assign_instructor` reads as `TrackService.assign_instructor`.
"""

from __future__ import annotations

import ast
from typing import Any

from indexing.chunk import Piece

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


def python_pieces(text: str, lines: list[str]) -> list[Piece] | None:
    """Structural pieces of a Python file, or None if it does not parse (the caller falls back)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    prefixes = _router_prefixes(tree)
    pieces: list[Piece] = []
    pending_start: int | None = None
    pending_end = 0

    def flush() -> None:
        nonlocal pending_start
        if pending_start is not None:
            pieces.append(Piece("module", "", pending_start, pending_end, merge_key="module"))
            pending_start = None

    for node in tree.body:
        start = _start_line(node)
        end = node.end_lineno or node.lineno
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            flush()
            pieces.append(_function_piece(node, "", prefixes, merge_key="functions"))
        elif isinstance(node, ast.ClassDef):
            flush()
            pieces.extend(_class_pieces(node, "", prefixes, lines))
        else:
            if pending_start is None:
                pending_start = start
            pending_end = end
    flush()
    if not pieces and lines:
        pieces.append(Piece("module", "", 1, len(lines)))
    return _cover_comments(pieces, lines)


def _start_line(node: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(node, "decorator_list", [])
    if decorators:
        return min(d.lineno for d in decorators)
    return node.lineno


def _class_pieces(node: ast.ClassDef, outer: str, prefixes: dict[str, str], lines: list[str]) -> list[Piece]:
    name = f"{outer}.{node.name}" if outer else node.name
    start = _start_line(node)
    end = node.end_lineno or node.lineno
    member_types = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    members = [n for n in node.body if isinstance(n, member_types)]
    if not members:
        return [Piece("class", name, start, end, merge_key="classes")]
    # The class header: decorators, bases, docstring and fields up to the first member (less the
    # comment block written just above that member, which is the member's own).
    first_member = _start_line(members[0])
    header_end = first_member - 1
    while header_end > start and _is_comment(lines[header_end - 1]):
        header_end -= 1
    pieces = [Piece("class", name, start, max(start, header_end), merge_key=f"class:{name}")]
    # Statements between or after members (fields declared after a validator, constants) are
    # part of the class too: they become class pieces of their own, never dropped.
    pending: tuple[int, int] | None = None
    for stmt in node.body:
        if _start_line(stmt) < first_member:
            continue
        if isinstance(stmt, member_types):
            if pending:
                pieces.append(Piece("class", name, pending[0], pending[1], merge_key=f"class:{name}"))
                pending = None
            if isinstance(stmt, ast.ClassDef):
                pieces.extend(_class_pieces(stmt, name, prefixes, lines))
            else:
                pieces.append(_function_piece(stmt, name, prefixes, merge_key=f"class:{name}"))
        else:
            stmt_end = stmt.end_lineno or stmt.lineno
            pending = (pending[0] if pending else _start_line(stmt), stmt_end)
    if pending:
        pieces.append(Piece("class", name, pending[0], pending[1], merge_key=f"class:{name}"))
    return pieces


def _function_piece(
    node: ast.FunctionDef | ast.AsyncFunctionDef, outer: str, prefixes: dict[str, str], merge_key: str
) -> Piece:
    name = f"{outer}.{node.name}" if outer else node.name
    meta: dict[str, Any] = {}
    routes = [r for d in node.decorator_list if (r := _route_of(d, prefixes))]
    if routes:
        meta["route"] = routes[0]
        meta["http_method"] = routes[0].split(" ", 1)[0]
        if len(routes) > 1:
            meta["routes"] = routes
    doc = ast.get_docstring(node, clean=True)
    if doc:
        meta["doc"] = doc.strip().split("\n\n", 1)[0][:400]
    unit = "route" if routes else ("method" if outer else "function")
    # Route handlers are not merged: each endpoint stays its own citation.
    return Piece(
        unit,
        name,
        _start_line(node),
        node.end_lineno or node.lineno,
        meta,
        merge_key=None if routes else merge_key,
    )


def _route_of(decorator: ast.expr, prefixes: dict[str, str]) -> str | None:
    """`@router.post("/x")` -> "POST /prefix/x"; Flask's `@app.route("/x", methods=[...])` too."""
    if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
        return None
    attr = decorator.func.attr.lower()
    owner = decorator.func.value
    owner_name = owner.id if isinstance(owner, ast.Name) else ""
    path = _first_str_arg(decorator)
    if path is None:
        return None
    prefix = prefixes.get(owner_name, "")
    # FastAPI joins prefix + path as written: "" under "/tracks" is "/tracks", "/" is "/tracks/"
    full = (prefix.rstrip("/") + "/" + path.lstrip("/") if path else prefix) if prefix else path
    if attr in HTTP_METHODS:
        return f"{attr.upper()} {full}"
    if attr in ("route", "api_route"):
        methods = ["GET"]
        for kw in decorator.keywords:
            if kw.arg == "methods" and isinstance(kw.value, (ast.List, ast.Tuple)):
                found = [
                    e.value for e in kw.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
                ]
                methods = [m.upper() for m in found] or methods
        return f"{'|'.join(methods)} {full}"
    return None


def _first_str_arg(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    for kw in call.keywords:
        if kw.arg == "path" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
            return kw.value.value
    return None


def _router_prefixes(tree: ast.Module) -> dict[str, str]:
    """Module-level `router = APIRouter(prefix="/api/v1/tracks")` (or Blueprint url_prefix)."""
    prefixes: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or not isinstance(node.value, ast.Call):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        for kw in node.value.keywords:
            if (
                kw.arg in ("prefix", "url_prefix")
                and isinstance(kw.value, ast.Constant)
                and isinstance(kw.value.value, str)
            ):
                for name in names:
                    prefixes[name] = kw.value.value
    return prefixes


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _cover_comments(pieces: list[Piece], lines: list[str]) -> list[Piece]:
    """Give every comment a piece, so no explanation is left out of the index: the comments
    above a def/class (even across a blank line: a section comment, a license header) join it,
    and comments after the last piece join that one."""
    out = []
    prev_end = 0
    for piece in pieces:
        start = piece.start
        while start - 1 > prev_end and (_is_comment(lines[start - 2]) or not lines[start - 2].strip()):
            start -= 1
        while start < piece.start and not lines[start - 1].strip():  # no leading blank lines
            start += 1
        out.append(Piece(piece.unit, piece.symbol, start, piece.end, piece.metadata, piece.merge_key))
        prev_end = piece.end
    if out:
        last = out[-1]
        end = last.end
        while end < len(lines) and (_is_comment(lines[end]) or not lines[end].strip()):
            end += 1
        while end > last.end and not lines[end - 1].strip():  # no trailing blank lines
            end -= 1
        out[-1] = Piece(last.unit, last.symbol, last.start, end, last.metadata, last.merge_key)
    return out
