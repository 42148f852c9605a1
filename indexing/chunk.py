"""The unit of retrieval, and the size rules every chunker shares.

A chunk is a structural unit of one file (a function, a Markdown section, a SQL statement, a
config block) that fits the embedding model's window. Small neighbouring units may be merged so
the index is not flooded with three-line chunks; a unit too big for the window is cut at line
boundaries into numbered parts that repeat the unit's header, never truncated silently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

TokenCounter = Callable[[str], int]

# The window of all-MiniLM-L6-v2 as trained (sentence-transformers max_seq_length), less the
# [CLS]/[SEP] tokens the embedder adds.
MAX_CHUNK_TOKENS = 254
# A symbol (a heading path, a name) is repeated in the header of each of its chunks: a 250 KB
# heading line made every one of its hundreds of parts carry all of it (quadratic work).
MAX_SYMBOL_CHARS = 300


@dataclass(frozen=True, slots=True)
class Chunk:
    """One searchable piece of a file, with everything needed to cite and explain it."""

    path: str
    kind: str  # the file's kind: python, markdown, sql, yaml, typescript, ...
    unit: str  # what the piece is: function, class, route, section, statement, block, ...
    symbol: str  # enclosing names ("TrackService.assign_instructor"), heading path, or ""
    start_line: int  # 1-based, inclusive
    end_line: int
    text: str  # the file's own lines start_line..end_line (after redaction)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8", errors="surrogatepass")).hexdigest()[:32]

    @property
    def id(self) -> str:
        """Stable while the file's structure is: path, position and content."""
        key = f"{self.path}\n{self.start_line}\n{self.end_line}\n{self.symbol}\n{self.content_hash}"
        # Parts cut from one over-long line share its line range and may share their text ("spam
        # spam ..."): their character offsets in that line tell them apart.
        if "chars" in self.metadata:
            key += f"\n{self.metadata['chars']}"
        # surrogatepass: a path or text that slipped through with a lone surrogate never raises here
        return hashlib.sha1(key.encode("utf-8", errors="surrogatepass")).hexdigest()

    @property
    def header(self) -> str:
        """The one line shown above the chunk and prepended to what is searched."""
        parts = [self.path]
        if self.symbol:
            parts.append(self.symbol)
        route = self.metadata.get("route")
        if route:
            parts.append(f"[{route}]")
        return " :: ".join(parts)


@dataclass(frozen=True, slots=True)
class Piece:
    """A structural unit before sizing: lines [start, end] (1-based, inclusive) of a file."""

    unit: str
    symbol: str
    start: int
    end: int
    metadata: dict[str, Any] = field(default_factory=dict)
    # May be merged with small neighbours that share the same merge key (e.g. methods of a class).
    merge_key: str | None = None
    # Where a piece too big for the window may be cut: (line, strength) pairs, a cut allowed after
    # that line. STRONG between blocks (paragraphs, whole lists, code blocks), ATTACHED between a
    # heading or a lead-in and what it introduces, WEAK between the items of a list. Without
    # breaks, a piece is cut into line windows.
    breaks: tuple[tuple[int, int], ...] = ()


WEAK = 1
ATTACHED = 2
STRONG = 3


class LineTokens:
    """Token counts per line of one file, so any line range is counted in O(1).

    The tokenizer splits on whitespace before anything else, so no token spans a line break and
    a range's count is exactly the sum of its lines' counts (plus nothing for the newlines).
    """

    def __init__(self, per_line: list[int]) -> None:
        self.prefix = [0]
        for n in per_line:
            self.prefix.append(self.prefix[-1] + n)

    def range(self, start: int, end: int) -> int:
        """Tokens in lines start..end (1-based, inclusive)."""
        return self.prefix[end] - self.prefix[start - 1]

    def line(self, number: int) -> int:
        return self.prefix[number] - self.prefix[number - 1]


class Sizer:
    """Turns structural pieces into chunks that fit the window."""

    def __init__(
        self,
        count_tokens: TokenCounter,
        max_tokens: int = MAX_CHUNK_TOKENS,
        count_lines: Callable[[list[str]], list[int]] | None = None,
    ) -> None:
        self.count = count_tokens
        self.max_tokens = max_tokens
        self._count_lines = count_lines

    def line_tokens(self, lines: list[str]) -> LineTokens:
        if self._count_lines is not None:
            return LineTokens(self._count_lines(lines))
        return LineTokens([self.count(line) if line.strip() else 0 for line in lines])

    def chunks(self, path: str, kind: str, lines: list[str], pieces: Iterable[Piece]) -> list[Chunk]:
        tokens = self.line_tokens(lines)
        merged = self._merge_small(tokens, _coalesce(pieces))
        out: list[Chunk] = []
        for piece in merged:
            out.extend(self._split(path, kind, lines, tokens, piece))
        return out

    @staticmethod
    def _text(lines: list[str], start: int, end: int) -> str:
        return "\n".join(lines[start - 1 : end])

    def _merge_small(self, tokens: LineTokens, pieces: list[Piece]) -> list[Piece]:
        """Join neighbouring small pieces with the same merge key while the result still fits."""
        out: list[Piece] = []
        small = self.max_tokens // 3
        for piece in pieces:
            if out and piece.merge_key is not None and out[-1].merge_key == piece.merge_key:
                prev = out[-1]
                if (
                    tokens.range(piece.start, piece.end) <= small
                    and tokens.range(prev.start, piece.end) <= self.max_tokens
                ):
                    symbols = [s for s in (prev.symbol, piece.symbol) if s]
                    out[-1] = Piece(
                        unit=prev.unit if prev.unit == piece.unit else "group",
                        symbol=", ".join(dict.fromkeys(", ".join(symbols).split(", "))),
                        start=prev.start,
                        end=piece.end,
                        metadata=_merge_metadata(prev.metadata, piece.metadata),
                        merge_key=prev.merge_key,
                        breaks=(*prev.breaks, (prev.end, STRONG), *piece.breaks)
                        if prev.breaks or piece.breaks
                        else (),
                    )
                    continue
            out.append(piece)
        return out

    def _split(self, path: str, kind: str, lines: list[str], tokens: LineTokens, piece: Piece) -> list[Chunk]:
        text = self._text(lines, piece.start, piece.end)
        if not text.strip():
            return []
        if tokens.range(piece.start, piece.end) <= self.max_tokens:
            return [Chunk(path, kind, piece.unit, piece.symbol, piece.start, piece.end, text, piece.metadata)]
        parts: list[tuple[int, int, str, str | None]] = []
        if piece.breaks:
            windows = self._break_windows(lines, tokens, piece)
        else:
            windows = self._windows(lines, tokens, piece.start, piece.end)
        for start, end in windows:
            part_text = self._text(lines, start, end)
            if not part_text.strip():
                continue
            if tokens.range(start, end) <= self.max_tokens:
                parts.append((start, end, part_text, None))
            else:  # a single line longer than the window: cut it by characters
                parts.extend(
                    (start, end, segment, f"{offset}-{offset + len(segment)}")
                    for offset, segment in self._cut(part_text)
                )
        out = []
        for i, (start, end, part_text, chars) in enumerate(parts, 1):
            meta = dict(piece.metadata)
            meta["part"] = f"{i}/{len(parts)}"
            if chars is not None:
                meta["chars"] = chars
            out.append(Chunk(path, kind, piece.unit, piece.symbol, start, end, part_text, meta))
        return out

    def _cut(self, text: str) -> list[tuple[int, str]]:
        """(offset, segment) pieces of an over-long text, each within the window."""
        segments = []
        offset = 0
        while offset < len(text):
            size = min(len(text) - offset, self.max_tokens * 3)
            while size > 1 and self.count(text[offset : offset + size]) > self.max_tokens:
                size = size * 3 // 4
            segments.append((offset, text[offset : offset + size]))
            offset += size
        return [(o, s) for o, s in segments if s.strip()]

    def _break_windows(self, lines: list[str], tokens: LineTokens, piece: Piece) -> list[tuple[int, int]]:
        """Windows cut only at the piece's breaks, so a block (a whole list, a code block) that
        fits the window is never cut, and a list too long for one is cut between its items.

        Each window ends at the furthest break of the highest strength that fits, unless the
        block that follows it (up to the next break as strong) could not be whole anyway and the
        window would be small: then a weaker break is tried. So a lead-in is cut from its list
        only when together they do not fit and the list alone does, and a heading and a lead-in
        keep the first items of a list too long for one chunk rather than being a chunk of their
        own. A block with no break that fits (one huge list item) falls back to line windows up
        to its next break."""
        strength = dict(piece.breaks)
        points = sorted(b for b in strength if piece.start <= b < piece.end)
        levels = sorted(set(strength.values()), reverse=True)
        windows: list[tuple[int, int]] = []
        cur, end = piece.start, piece.end
        while cur <= end:
            if tokens.range(cur, end) <= self.max_tokens:
                windows.append((cur, end))
                break
            fitting = [b for b in points if b >= cur and tokens.range(cur, b) <= self.max_tokens]
            stop: int | None = None
            for level in levels:
                best = max((b for b in fitting if strength[b] >= level), default=None)
                if best is None:
                    continue
                after = min((b for b in points if b > best and strength[b] >= level), default=end)
                if (
                    best == fitting[-1]
                    or tokens.range(best + 1, after) <= self.max_tokens
                    or tokens.range(cur, best) >= self.max_tokens // 3
                ):
                    stop = best
                    break
            if stop is None and fitting:
                stop = fitting[-1]
            if stop is None:  # nothing fits before the next break: cut that block by lines
                nxt = min((b for b in points if b >= cur), default=end)
                windows.extend(self._windows(lines, tokens, cur, nxt))
                cur = nxt + 1
                continue
            windows.append((cur, stop))
            cur = stop + 1
        return windows

    def _windows(self, lines: list[str], tokens: LineTokens, start: int, end: int) -> list[tuple[int, int]]:
        """Greedy line windows that fit; prefers to cut at a blank line in the window's last third."""
        windows: list[tuple[int, int]] = []
        cur = start
        while cur <= end:
            hi = cur
            used = 0
            last_blank = None
            while hi <= end:
                n = tokens.line(hi)
                if used + n > self.max_tokens and hi > cur:
                    break
                used += n
                if not lines[hi - 1].strip() and hi > cur:
                    last_blank = hi
                hi += 1
                if n > self.max_tokens:  # one enormous line is a window of its own
                    break
            stop = hi - 1
            if hi <= end and last_blank is not None and last_blank - cur > (stop - cur) * 2 // 3:
                stop = last_blank
            windows.append((cur, stop))
            cur = stop + 1
        return windows


def _coalesce(pieces: Iterable[Piece]) -> list[Piece]:
    """Pieces in file order that share no line. Chunks are line ranges, so units on the same line
    (thirty thousand `SELECT 1;` on one line) are one piece: else each would be that whole line,
    cut again and again, under the same id."""
    out: list[Piece] = []
    for piece in sorted(pieces, key=lambda p: (p.start, p.end)):
        if len(piece.symbol) > MAX_SYMBOL_CHARS:  # goes into every chunk's header and search text
            cut = piece.symbol[:MAX_SYMBOL_CHARS].rsplit(" ", 1)[0] + " …"
            piece = Piece(
                piece.unit, cut, piece.start, piece.end, piece.metadata, piece.merge_key, piece.breaks
            )
        if out and piece.start <= out[-1].end:
            prev = out[-1]
            if piece.end > prev.end:
                out[-1] = Piece(prev.unit, prev.symbol, prev.start, piece.end, prev.metadata, prev.merge_key,
                                (*prev.breaks, *piece.breaks))  # fmt: skip
            continue
        out.append(piece)
    return out


def _merge_metadata(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, value in b.items():
        if key not in out:
            out[key] = value
        elif key == "routes":
            out[key] = list(out[key]) + list(value)
    if "route" in a and "route" in b and a["route"] != b["route"]:
        out["routes"] = list(dict.fromkeys([*a.get("routes", [a["route"]]), *b.get("routes", [b["route"]])]))
    return out
