"""Markdown by heading section, each carrying its heading path ("Guide > Tracks > Publishing").

Headings inside fenced code blocks are not headings. A section's heading path is its symbol, so a
hit deep in a document still says where it sits; consecutive small sections under the same parent
may be merged by the sizer.

A section too big for one chunk is cut along its blocks, never inside a list item or a code block
(issue 12: "how do I ..." answers lost the steps of a numbered procedure cut across chunks). A
heading and the lead-in paragraph of a list ("To publish a track:") stay with the list; a list
that fits one chunk stays whole; a longer one is cut between its items.
"""

from __future__ import annotations

import re

from indexing.chunk import ATTACHED, STRONG, WEAK, Piece

# A heading is part of the symbol (heading path) of every chunk under it: a huge one is clipped.
MAX_HEADING_CHARS = 120
_ATX_OPEN = re.compile(r"^(#{1,6})[ \t]+")


def atx_heading(line: str) -> tuple[int, str] | None:
    """(level, title) of an ATX heading line ("## Title ##"), in linear time: a one-regex form
    backtracked quadratically on a 250 KB heading line of one repeated word and stalled a build."""
    m = _ATX_OPEN.match(line)
    if not m:
        return None
    title = line[m.end() :].strip()
    closing = title.rstrip("#")
    if closing != title and (not closing or closing[-1] in " \t"):
        title = closing.strip()  # "Title ##": the closing hashes are not part of it
    return len(m.group(1)), title


_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_SETEXT = re.compile(r"^(=+|-+)\s*$")
_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d{1,9}[.)])(?:\s+|$)")


def markdown_pieces(lines: list[str]) -> list[Piece]:
    headings: list[tuple[int, int, str]] = []  # (line, level, title)
    fence: str | None = None  # the marker that opened the code block we are in
    for i, line in enumerate(lines, 1):
        f = _FENCE.match(line)
        if fence is None and f:
            fence = f.group(1)
            continue
        if fence is not None:
            # only the same character, at least as many, with nothing after it, closes a fence
            # (CommonMark), so a ``` block shown inside a ```` block stays code
            if (
                f
                and f.group(1)[0] == fence[0]
                and len(f.group(1)) >= len(fence)
                and not line[f.end() :].strip()
            ):
                fence = None
            continue
        atx = atx_heading(line)
        if atx:
            headings.append((i, atx[0], atx[1][:MAX_HEADING_CHARS]))
        elif (
            i > 1
            and _SETEXT.match(line)
            and lines[i - 2].strip()
            and not lines[i - 2].lstrip().startswith(("-", "*", "|", ">"))
            and not (headings and headings[-1][0] == i - 1)
        ):
            level = 1 if line.strip().startswith("=") else 2
            headings.append((i - 1, level, lines[i - 2].strip()[:MAX_HEADING_CHARS]))
    if not headings:
        return [
            Piece("section", "", 1, len(lines), merge_key="doc", breaks=block_breaks(lines, 1, len(lines)))
        ]
    pieces: list[Piece] = []
    if headings[0][0] > 1 and any(line.strip() for line in lines[: headings[0][0] - 1]):
        pieces.append(Piece("section", "", 1, headings[0][0] - 1, merge_key="doc"))
    stack: list[tuple[int, str]] = []
    for idx, (line_no, level, title) in enumerate(headings):
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, _clean(title)))
        end = headings[idx + 1][0] - 1 if idx + 1 < len(headings) else len(lines)
        path = " > ".join(t for _, t in stack)
        parent = " > ".join(t for _, t in stack[:-1])
        pieces.append(
            Piece("section", path, line_no, end, {"heading": _clean(title), "level": level}, merge_key=parent)
        )
    return [
        Piece(p.unit, p.symbol, p.start, p.end, p.metadata, p.merge_key, block_breaks(lines, p.start, p.end))
        for p in _fold_bare_headings(pieces, lines)
    ]


def block_breaks(lines: list[str], start: int, end: int) -> tuple[tuple[int, int], ...]:
    """Where lines start..end may be cut: (line, strength), a cut allowed after that line.

    Strong between blocks separated by a blank line; "attached" after a heading or a lead-in (a
    paragraph ending with ':' introduces what follows), cut only when they cannot stay together;
    weak before each item of a list at the list's own indentation. Nothing inside a fenced code block, a table, or a list item (its
    continuation lines, nested items and code blocks belong to it).
    """
    breaks: dict[int, int] = {}
    fence: str | None = None
    list_indent: int | None = None  # indentation of the items of the list we are in
    blank_before = False
    attached = True  # the previous block holds on to the next (a heading, a lead-in)
    after_heading = False
    for i in range(start, end + 1):
        line = lines[i - 1]
        f = _FENCE.match(line)
        if fence is not None:
            if (
                f
                and f.group(1)[0] == fence[0]
                and len(f.group(1)) >= len(fence)
                and not line[f.end() :].strip()
            ):
                fence = None
            continue
        if not line.strip():
            blank_before = True
            continue
        indent = len(line) - len(line.lstrip())
        item = _ITEM.match(line)
        heading = atx_heading(line) is not None
        if list_indent is not None:
            if item and len(item.group(1)) <= list_indent and not heading:
                breaks[i - 1] = WEAK  # the next item of the same list
                after_heading = False
                list_indent = len(item.group(1))
                blank_before = False
                if f:
                    fence = f.group(1)
                continue
            if not heading and (indent > list_indent or not blank_before):
                blank_before = False  # a continuation line, a nested item, a lazy line
                if f:
                    fence = f.group(1)
                continue
            list_indent = None  # the list ended: this line starts a new block
            attached = False
        if i > start and (blank_before or heading or after_heading):
            breaks[i - 1] = ATTACHED if attached else STRONG
        elif i > start and item and not heading:  # a list right under its paragraph: held on to
            breaks[i - 1] = ATTACHED
        after_heading = heading
        if item and not heading:
            list_indent = len(item.group(1))
            attached = False
        else:  # what the block's last line says about the next block
            attached = heading or line.rstrip().endswith(":")
        if f:
            fence = f.group(1)
        blank_before = False
    return tuple(sorted((b, s) for b, s in breaks.items() if start <= b < end))


def _fold_bare_headings(pieces: list[Piece], lines: list[str]) -> list[Piece]:
    """A heading with no text of its own ("## Tracks" right before "### Creating") joins the next
    section instead of becoming a chunk that says nothing."""
    out: list[Piece] = []
    carry: int | None = None
    for i, piece in enumerate(pieces):
        start = carry if carry is not None else piece.start
        carry = None
        # a section's own text starts after its heading line; a preamble has no heading line
        first_body = piece.start if "heading" in piece.metadata else piece.start - 1
        body = [line for line in lines[first_body : piece.end] if line.strip()]
        if not body and i + 1 < len(pieces):
            carry = start
            continue
        out.append(Piece(piece.unit, piece.symbol, start, piece.end, piece.metadata, piece.merge_key))
    return out


_EMPHASIS = (
    re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"),
    re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)"),
    re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"),
    re.compile(r"(?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)"),
)


def _clean(title: str) -> str:
    """Heading text without Markdown markup: links, emphasis anywhere in it, code backticks
    (code spans keep their content untouched, `__init__` stays `__init__`)."""
    title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)
    parts = re.split(r"(`[^`]*`)", title)
    for i in range(0, len(parts), 2):  # outside code spans
        for pattern in _EMPHASIS:
            parts[i] = pattern.sub(r"\1", parts[i])
    title = "".join(p[1:-1] if i % 2 else p for i, p in enumerate(parts))
    return title.strip()
