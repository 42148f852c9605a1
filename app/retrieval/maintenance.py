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
