"""Helpers the chunker tests share: chunk a text the way the builder does, and check the
invariants every chunk must keep whatever the file kind."""

from __future__ import annotations

import itertools
import re
from textwrap import dedent

from indexing.chunk import MAX_CHUNK_TOKENS, Chunk, Sizer
from indexing.chunkers import chunk_text, split_lines
from indexing.tokens import TokenCounter

_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")


def src(text: str) -> str:
    """A dedented source text without its leading newline (tests write files as indented blocks)."""
    return dedent(text).lstrip("\n")


def chunk(path: str, kind: str, text: str, sizer: Sizer) -> list[Chunk]:
    return chunk_text(path, kind, text, sizer)


def check_invariants(chunks: list[Chunk], text: str, path: str, kind: str, counter: TokenCounter) -> None:
    """Every chunk: its path and kind, 1-based inclusive lines whose text it is, a 32-hex content
    hash, a stable 40-hex id, and a size the embedding model can take."""
    _, lines = split_lines(text)
    assert chunks, "a non-empty file gives at least one chunk"
    for c in chunks:
        assert c.path == path
        assert c.kind == kind
        assert c.unit
        assert 1 <= c.start_line <= c.end_line <= len(lines), (c.start_line, c.end_line, len(lines))
        assert c.text == "\n".join(lines[c.start_line - 1 : c.end_line])
        assert _HEX32.match(c.content_hash)
        assert _HEX40.match(c.id)
        assert counter.count(c.text) <= MAX_CHUNK_TOKENS
    # pieces follow each other in file order and never overlap
    for a, b in itertools.pairwise(chunks):
        assert a.end_line < b.start_line, (a.symbol, a.end_line, b.symbol, b.start_line)


def by_symbol(chunks: list[Chunk]) -> dict[str, Chunk]:
    out = {c.symbol: c for c in chunks}
    assert len(out) == len(chunks), [c.symbol for c in chunks]
    return out


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line containing `needle`."""
    for i, line in enumerate(split_lines(text)[1], 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in text")


def uncovered(chunks: list[Chunk], text: str) -> list[tuple[int, str]]:
    """The non-blank lines of `text` that no chunk holds: text the index could never find."""
    covered: set[int] = set()
    for c in chunks:
        covered.update(range(c.start_line, c.end_line + 1))
    return [(i, line) for i, line in enumerate(split_lines(text)[1], 1) if i not in covered and line.strip()]
