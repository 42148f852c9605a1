"""A line range of one indexed file, for a model that wants more than the retrieved passage.

A passage is a chunk: a function, a section, a YAML block. The answer sometimes sits just outside
it (the decorator above, the rest of a procedure, the caller), so the model may open lines of a
file it was shown. Only files in the index can be read (the index is what the operator chose to
expose; a path outside it, or one that climbs out of the indexed tree, is refused), and the text
is redacted exactly as the index was, so no secret the index hid comes back through this door.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from indexing.catalog import Catalog
from indexing.redact import redact

MAX_LINES = 200  # one call's worth: about 2,000 tokens of code


class FileLinesError(ValueError):
    """Why the lines cannot be given (said to the model, which can correct its call)."""


@dataclass(frozen=True)
class FileLines:
    path: str
    kind: str
    start_line: int
    end_line: int
    total_lines: int
    text: str  # the lines, redacted, each prefixed with its number
    changed_since_indexed: bool
    clipped: bool  # the range asked for was longer than MAX_LINES

    @property
    def citation(self) -> str:
        return f"{self.path}:{self.start_line}-{self.end_line}"


def read_lines(index_dir: Path, source: Path | None, path: str, start: int, end: int | None) -> FileLines:
    """Lines `start`..`end` (1-based, inclusive) of the indexed file `path`, numbered and redacted."""
    path = relative_to_source(path.strip())
    path = path[2:] if path.startswith("./") else path
    if source is None or not source.is_dir():
        raise FileLinesError("The indexed files are not on this machine, so no file can be opened.")
    catalog = Catalog(index_dir, readonly=True)
    try:
        state = catalog.file(path)
    finally:
        catalog.close()
    if state is None:
        raise FileLinesError(f"{path!r} is not in the index. Use a path from a search_docs citation.")
    root = source.resolve()
    target = (root / path).resolve()
    if root not in target.parents:
        raise FileLinesError(f"{path!r} is outside the indexed tree.")
    try:
        stat = target.stat()
        raw = target.read_bytes()
    except OSError as exc:
        raise FileLinesError(f"{path} cannot be read now ({exc.strerror or exc}).") from exc
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = redact(text, state.kind).text.split("\n")
    if len(lines) > 1 and lines[-1] == "":  # "a\nb\n" has two lines, not three
        lines.pop()
    total = len(lines)
    if start < 1 or start > total:
        raise FileLinesError(f"{path} has {total} lines; start_line must be between 1 and {total}.")
    end = total if end is None else min(max(end, start), total)
    clipped = end - start + 1 > MAX_LINES
    if clipped:
        end = start + MAX_LINES - 1
    width = len(str(end))
    numbered = "\n".join(f"{n:>{width}} | {lines[n - 1]}" for n in range(start, end + 1))
    changed = stat.st_size != state.size or stat.st_mtime_ns != state.mtime_ns
    return FileLines(path, state.kind, start, end, total, numbered, changed, clipped)


def relative_to_source(path: str) -> str:
    """A citation's path as the index stores it (`a/b.py:10-20` -> `a/b.py`)."""
    head, sep, tail = path.rpartition(":")
    if sep and tail.replace("-", "").isdigit():
        path = head
    return path.replace(os.sep, "/")
