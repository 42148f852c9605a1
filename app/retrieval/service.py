"""Retrieval as the rest of the assistant uses it: built from settings, tolerant of a missing index.

A missing index is not an error for a conversation: the assistant still answers and acts, and
says that it cannot cite the docs until `python -m indexing build` has run.
"""

from __future__ import annotations

import logging
from typing import Any

from app.config import Settings
from app.retrieval.hybrid import HybridRetriever
from app.retrieval.index_reader import IndexMissingError, IndexReader
from app.retrieval.types import RetrievalResult

log = logging.getLogger(__name__)


class RetrievalService:
    def __init__(self, settings: Settings, retriever: HybridRetriever | None = None) -> None:
        self.settings = settings
        if retriever is None:
            from indexing.embedder import shared_embedder

            reader = IndexReader(
                settings.resolved_index_dir,
                settings.chroma_collection,
                settings.chroma_host,
                settings.chroma_port,
            )
            retriever = HybridRetriever(
                reader, lambda: shared_embedder(settings.embedding_batch_size, settings.embedding_threads)
            )
        self.retriever = retriever

    def available(self) -> bool:
        return IndexReader.exists(self.retriever.reader.index_dir)

    def search(self, query: str, k: int | None = None) -> RetrievalResult | None:
        """Results, or None when there is no index yet."""
        try:
            return self.retriever.retrieve(query, k=k or self.settings.retrieval_top_k)
        except IndexMissingError:
            return None

    def search_dicts(self, query: str, k: int) -> list[dict[str, Any]]:
        """Plain dicts for the search_docs tool (JSON-ready, with a citation string)."""
        result = self.search(query, k)
        return [chunk.as_dict() for chunk in result.chunks] if result else []
