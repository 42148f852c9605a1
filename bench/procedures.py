"""`python -m bench.procedures PATH`: how many numbered procedures of a tree's Markdown are cut
across chunks (issue 12: "how do I ..." answers lost steps), with the list-aware cuts the chunker
makes and with the plain line windows it made before. A procedure is a run of top-level numbered
items ("1." / "1)") with their indented continuation lines. Prints figures, asserts nothing."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import indexing.chunkers.markdown as markdown
from indexing.chunk import MAX_CHUNK_TOKENS, Sizer
from indexing.chunkers import chunk_text, split_lines
from indexing.sources import WalkReport, read_source, walk
from indexing.tokens import TokenCounter

ITEM = re.compile(r"^\d{1,3}[.)]\s")


def procedures(lines: list[str]) -> list[tuple[int, int]]:
    found: list[list[int]] = []
    current: list[int] | None = None
    fence = False
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        if fence:
            continue
        if ITEM.match(line):
            if current is None:
                current = [number, number]
                found.append(current)
            current[1] = number
        elif current is not None and line.strip() and not line.startswith((" ", "\t")):
            current = None
    out = []
    for start, end in found:  # take in the last item's continuation lines
        while end < len(lines) and (
            lines[end].startswith((" ", "\t"))
            or (not lines[end].strip() and end + 1 < len(lines) and lines[end + 1].startswith((" ", "\t")))
        ):
            end += 1
        if end > start:
            out.append((start, end))
    return out


def measure(root: Path, counter: TokenCounter, sizer: Sizer) -> tuple[int, int, int, int]:
    """(procedures, cut across chunks, procedures that fit one chunk, of those cut)."""
    report = WalkReport()
    total = cut = fit = cut_fit = 0
    for candidate in walk(root, report):
        if candidate.kind != "markdown":
            continue
        source = read_source(candidate, report)
        if source is None:
            continue
        _, lines = split_lines(source.text)
        chunks = chunk_text(source.path, "markdown", source.text, sizer)
        for start, end in procedures(lines):
            fits = counter.count("\n".join(lines[start - 1 : end])) <= MAX_CHUNK_TOKENS
            whole = any(c.start_line <= start and end <= c.end_line for c in chunks)
            total, fit = total + 1, fit + fits
            if not whole:
                cut, cut_fit = cut + 1, cut_fit + fits
    return total, cut, fit, cut_fit


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else ".")
    counter = TokenCounter()
    sizer = Sizer(counter.count, count_lines=counter.count_lines)
    now = measure(root, counter, sizer)
    markdown.block_breaks = lambda lines, start, end: ()  # type: ignore[assignment]  # line windows
    before = measure(root, counter, sizer)
    for label, (total, cut, fit, cut_fit) in (("list-aware cuts", now), ("line windows", before)):
        print(
            f"{label:>16}: {total} procedures, {cut} cut across chunks; of the {fit} that fit one chunk, {cut_fit} cut"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
