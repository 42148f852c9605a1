"""Chunking by file kind: each kind's structure decides where one unit ends and the next begins."""

from __future__ import annotations

import re

from indexing.chunk import Chunk, Piece, Sizer
from indexing.chunkers.config import ini_pieces, json_pieces, toml_pieces, yaml_pieces
from indexing.chunkers.markdown import markdown_pieces
from indexing.chunkers.python import python_pieces
from indexing.chunkers.script import line_pieces, script_pieces
from indexing.chunkers.sql import sql_pieces

_TEST_PATH = re.compile(
    r"(^|/)(tests?|__tests__|spec|e2e|cypress|playwright)/|(^|/)test_[^/]*\.py$|_test\.py$|\.(test|spec)\.[jt]sx?$"
)


def is_test_path(path: str) -> bool:
    """Test code answers "is there a test for X" but pollutes "how does X work": it is flagged."""
    return bool(_TEST_PATH.search(path))


def pieces_for(kind: str, text: str, lines: list[str]) -> list[Piece]:
    pieces: list[Piece] | None
    if kind == "python":
        pieces = python_pieces(text, lines)
    elif kind == "markdown":
        pieces = markdown_pieces(lines)
    elif kind == "sql":
        pieces = sql_pieces(text, lines)
    elif kind == "yaml":
        pieces = yaml_pieces(text, lines)
    elif kind == "toml":
        pieces = toml_pieces(lines)
    elif kind == "ini":
        pieces = ini_pieces(lines)
    elif kind == "json":
        pieces = json_pieces(text, lines)
    elif kind in ("typescript", "javascript"):
        pieces = script_pieces(lines)
    else:
        pieces = line_pieces(lines)
    return pieces if pieces is not None else line_pieces(lines, unit="lines")


def split_lines(text: str) -> tuple[str, list[str]]:
    r"""The text with its line breaks normalized, and its lines, numbered as an editor numbers
    them: at \n, \r\n and \r only. (str.splitlines also breaks at form feeds, \x1c-\x1e, \x85
    and \u2028/\u2029, which shifts every later line number away from the parser's and the
    editor's, and made a CRLF SQL file fail.)"""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return text, lines


def chunk_text(path: str, kind: str, text: str, sizer: Sizer) -> list[Chunk]:
    """Chunks of one file's (already redacted) text. Never raises on odd input: worst case is
    the line-window fallback."""
    text, lines = split_lines(text)
    if not lines:
        return []
    try:
        pieces = pieces_for(kind, text, lines)
    except (RecursionError, ValueError, IndexError):
        pieces = line_pieces(lines)
    chunks = sizer.chunks(path, kind, lines, pieces)
    if is_test_path(path):
        chunks = [
            Chunk(
                c.path,
                c.kind,
                c.unit,
                c.symbol,
                c.start_line,
                c.end_line,
                c.text,
                {**c.metadata, "test": True},
            )
            for c in chunks
        ]
    return chunks
