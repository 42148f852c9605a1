"""Building the index from the dashboard: an incremental update, or a rebuild of every file.

Either way the old index keeps answering until the new one is committed (see indexing.builder),
and the retriever picks the new generation up on its next query.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.config import Settings
from app.jobs import Report
from indexing.builder import BuildOptions, IndexBuilder
from indexing.embedder import shared_embedder

PHASES = {"chunk": "Reading and chunking files", "embed": "Embedding cards", "bm25": "Writing the BM25 index"}
FILL_PHASE = "Embedding the full text of every chunk"


def build_index(settings: Settings, source: Path, *, full: bool, report: Report) -> dict[str, Any]:
    options = BuildOptions(
        include_tests=settings.index_include_tests,
        max_file_bytes=settings.index_max_file_kb * 1024,
        collection=settings.chroma_collection,
        chroma_host=settings.chroma_host,
        chroma_port=settings.chroma_port,
        force=full,
    )
    builder = IndexBuilder(
        settings.resolved_index_dir,
        lambda: shared_embedder(settings.embedding_batch_size, settings.embedding_threads),
        options,
        progress=lambda phase, done, total: report(done, total, PHASES.get(phase, phase)),
    )
    return builder.build(source).as_dict()


def fill_passage_cache(settings: Settings, *, report: Report, limit: int | None = None) -> dict[str, Any]:
    """Embed the full text of every chunk that has no vector yet (after a build), in the
    background: resumable, and the retriever uses the vectors as they are written. The Index
    page can run it as a job after an update; `python -m indexing fill-cache` does the same."""
    from indexing.passages import fill_passages
    from indexing.tokens import TokenCounter

    embedder = shared_embedder(settings.embedding_batch_size, settings.embedding_threads)
    stats = fill_passages(
        settings.resolved_index_dir,
        embedder,
        TokenCounter(),
        lambda done, total: report(done, total, FILL_PHASE),
        limit=limit,
    )
    return stats.as_dict()


def passage_fill_status(settings: Settings) -> tuple[int, int]:
    """(chunks with a passage vector, chunks) of the committed index, for the Index page."""
    from indexing.embedder import MODEL_ID
    from indexing.passages import fill_status

    return fill_status(settings.resolved_index_dir, MODEL_ID)
