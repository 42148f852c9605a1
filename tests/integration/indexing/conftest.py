"""Fixtures for the indexing integration tests: the real embedding model (loaded once per
session), builders over a fixture platform written into tmp_path, and views of what an index holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.retrieval.hybrid import HybridRetriever
from app.retrieval.index_reader import IndexReader
from indexing.builder import BuildOptions, IndexBuilder
from indexing.catalog import Catalog
from indexing.embedder import MiniLMEmbedder, shared_embedder
from indexing.vector_store import VectorStore

from .platform_repo import write_platform


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX), offline; one instance for every test of the session."""
    return shared_embedder()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return write_platform(tmp_path / "platform")


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


BuilderFactory = Callable[..., IndexBuilder]


@pytest.fixture
def make_builder(index_dir: Path, embedder: MiniLMEmbedder) -> BuilderFactory:
    def make(target: Path | None = None, **options: object) -> IndexBuilder:
        opts = BuildOptions(workers=1, **options)  # type: ignore[arg-type]
        return IndexBuilder(target or index_dir, lambda: embedder, opts)

    return make


@pytest.fixture
def make_retriever(index_dir: Path, embedder: MiniLMEmbedder) -> Callable[..., HybridRetriever]:
    def make(target: Path | None = None) -> HybridRetriever:
        return HybridRetriever(IndexReader(target or index_dir), lambda: embedder)

    return make


@dataclass(frozen=True)
class IndexView:
    """Everything an index serves, read back from its catalog and its vector store."""

    files: dict[str, str]  # path -> content hash
    chunks: dict[str, tuple[str, int, int, str]]  # id -> (path, start, end, text)
    dense: dict[str, str]  # dense unit id -> path
    vectors: set[str]
    state: dict[str, str]

    @property
    def generation(self) -> int:
        return int(self.state["generation"])

    def paths(self) -> set[str]:
        return {path for path, _, _, _ in self.chunks.values()}

    def bm25_references(self) -> set[str]:
        return {v for k, v in self.state.items() if k.startswith("bm25") and v}


def view(index_dir: Path) -> IndexView:
    catalog = Catalog(index_dir, readonly=True)
    try:
        files = {p: s.content_hash for p, s in catalog.files().items()}
        chunks = {c.id: (c.path, c.start_line, c.end_line, c.text) for c in catalog.chunks()}
        dense = {u.id: u.path for u in catalog.dense_units()}
        state = catalog.all_state()
    finally:
        catalog.close()
    return IndexView(files, chunks, dense, VectorStore(index_dir).ids(), state)


def bm25_entries(index_dir: Path) -> set[str]:
    """What the bm25 folder holds, as paths relative to the index (like the state's references)."""
    root = index_dir / "bm25"
    return {f"bm25/{entry.name}" for entry in root.iterdir()} if root.is_dir() else set()


def ranked(retriever: HybridRetriever, query: str, k: int = 5) -> list[tuple[str, int, int]]:
    return [(c.path, c.start_line, c.end_line) for c in retriever.retrieve(query, k=k).chunks]
