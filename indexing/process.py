"""From one file's text to what the index stores about it: chunks, BM25 terms, dense texts.

Kept free of any store so it can run in worker processes: a full build of a large codebase
spends most of its non-embedding time here, and two cores halve it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from indexing.cards import chunk_units, file_word_counts
from indexing.catalog import FileState, FileUpdate
from indexing.chunk import Sizer
from indexing.chunkers import chunk_text
from indexing.lexical import tokenize
from indexing.redact import redact
from indexing.tokens import TokenCounter

# Bumped when redaction or chunking changes what a file's text becomes: an index built by an older
# version re-processes every file once (issue 11: secrets the old rules let through).
PROCESSING_VERSION = "redact-2 chunk-2"


@dataclass(frozen=True, slots=True)
class FileJob:
    path: str
    kind: str
    text: str
    size: int
    mtime_ns: int
    content_hash: str


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


class FileProcessor:
    """Redact, chunk, tokenize and describe one file. One per process (it holds a tokenizer)."""

    def __init__(self, counter: TokenCounter | None = None) -> None:
        self.counter = counter or TokenCounter()
        self.sizer = Sizer(self.counter.count, count_lines=self.counter.count_lines)

    def process(self, job: FileJob) -> FileUpdate:
        redaction = redact(job.text, job.kind)
        chunks = chunk_text(job.path, job.kind, redaction.text, self.sizer)
        terms = [tokenize(f"{c.header}\n{c.text}") for c in chunks]
        dense = chunk_units(job.path, chunks, self.counter)
        state = FileState(
            job.path, job.kind, job.size, job.mtime_ns, job.content_hash, len(chunks), redaction.count
        )
        is_test = any(c.metadata.get("test") for c in chunks)
        counts = {} if is_test else file_word_counts(chunks)
        symbols = [] if is_test else list(dict.fromkeys(c.symbol for c in chunks if c.symbol))
        return FileUpdate(state, chunks, terms, dense, counts, symbols)

    def process_or_skip(self, job: FileJob) -> FileUpdate | Skipped:
        """`process`, or why the file cannot be indexed: one file never stops a build."""
        try:
            update = self.process(job)
        except Exception as exc:  # any defect on one file's content skips that file, not the build
            return Skipped(job.path, f"could not be chunked ({type(exc).__name__})")
        ids = [c.id for c in update.chunks]
        if len(set(ids)) != len(ids):  # the stores key on them: a duplicate would abort the build
            return Skipped(job.path, "could not be chunked (duplicate chunk ids)")
        return update


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file the processor gave up on, and the reason counted in the build's skips."""

    path: str
    reason: str


_worker: FileProcessor | None = None


def init_worker() -> None:
    global _worker
    _worker = FileProcessor()


def process_in_worker(job: FileJob) -> FileUpdate | Skipped:
    assert _worker is not None, "init_worker was not run in this process"
    return _worker.process_or_skip(job)
