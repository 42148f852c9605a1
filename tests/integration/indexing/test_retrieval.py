"""A real Chroma + BM25 index of the fixture platform, with the real model: natural-language
questions find their file, results explain themselves, rebuilds are picked up, and only live
chunks are ever returned."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.retrieval.hybrid import HybridRetriever
from app.retrieval.index_reader import IndexReader
from indexing.builder import BuildOptions, IndexBuilder
from indexing.catalog import Catalog
from indexing.embedder import MiniLMEmbedder
from indexing.vector_store import VectorStore

from .conftest import BuilderFactory, view
from .platform_repo import FILES, QUESTIONS, write_platform, write_tree


@pytest.fixture(scope="module")
def platform_index(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedder) -> Path:
    root = tmp_path_factory.mktemp("retrieval")
    source = write_platform(root / "platform")
    IndexBuilder(root / "index", lambda: embedder, BuildOptions(workers=1)).build(source)
    return root / "index"


@pytest.fixture(scope="module")
def retriever(platform_index: Path, embedder: MiniLMEmbedder) -> HybridRetriever:
    return HybridRetriever(IndexReader(platform_index), lambda: embedder)


@pytest.mark.parametrize(("question", "expected"), QUESTIONS, ids=[gold for _, gold in QUESTIONS])
def test_questions_find_their_file_in_the_top_3(
    retriever: HybridRetriever, question: str, expected: str
) -> None:
    result = retriever.retrieve(question, k=3)
    paths = [c.path for c in result.chunks]
    assert len(paths) == len(set(paths)) == 3
    assert expected in paths, (question, paths)


def test_results_carry_citation_and_evidence(retriever: HybridRetriever, platform_index: Path) -> None:
    result = retriever.retrieve("What kinds of rooms can be reserved for live sessions?", k=5)
    assert result.index_generation == 1
    assert result.latency_ms > 0
    top = result.chunks[0]
    assert (top.path, top.kind, top.unit, top.symbol) == (
        "migrations/0003_meeting_rooms.sql",
        "sql",
        "create type",  # the enum of room kinds answers "what kinds"
        "room_kind",
    )
    assert top.citation == f"migrations/0003_meeting_rooms.sql:{top.start_line}-{top.end_line}"
    lines = (FILES["migrations/0003_meeting_rooms.sql"]).strip("\n").splitlines()
    assert top.text == "\n".join(lines[top.start_line - 1 : top.end_line])
    assert top.scores["bm25"] > 0 and 0 < top.scores["dense"] <= 1
    assert top.scores["bm25_rank"] == 1
    assert top.score == pytest.approx(top.scores["rrf"], abs=1e-6)
    scores = [c.score for c in result.chunks]
    assert scores == sorted(scores, reverse=True)
    for hit in result.chunks:
        assert hit.path and hit.start_line <= hit.end_line and hit.text
        assert {"bm25", "dense", "file_card"} & set(hit.scores)
        assert hit.as_dict()["citation"] == hit.citation


def test_route_metadata_reaches_the_results(retriever: HybridRetriever) -> None:
    result = retriever.retrieve("POST /api/v1/tracks/{track_id}/enroll", k=3, kinds={"python"})
    route = next(c for c in result.chunks if c.path == "api/routes/tracks.py")
    assert route.metadata["route"] == "POST /api/v1/tracks/{track_id}/enroll"
    assert route.symbol == "enroll_students"
    assert route.title == "api/routes/tracks.py enroll_students [POST /api/v1/tracks/{track_id}/enroll]"
    assert {c.kind for c in result.chunks} == {"python"}


def test_the_reader_picks_up_a_new_generation_without_being_recreated(
    source: Path, index_dir: Path, make_builder: BuilderFactory, make_retriever: Callable[..., Any]
) -> None:
    make_builder().build(source)
    retriever = make_retriever()
    question = "How many projects may one organization create at most?"
    first = retriever.retrieve(question, k=3)
    assert first.index_generation == 1
    limits = next(c for c in first.chunks if c.path == "config/limits.yaml")
    assert "max_projects_per_org: 25" in limits.text

    (source / "config" / "limits.yaml").write_text(
        FILES["config/limits.yaml"].replace("25", "60").lstrip("\n")
    )
    make_builder().build(source)
    second = retriever.retrieve(question, k=3)
    assert second.index_generation == 2
    limits = next(c for c in second.chunks if c.path == "config/limits.yaml")
    assert "max_projects_per_org: 60" in limits.text
    assert "max_projects_per_org: 25" not in limits.text


def test_vectors_of_an_uncommitted_build_are_never_returned(
    source: Path, index_dir: Path, make_builder: BuilderFactory, make_retriever: Callable[..., Any]
) -> None:
    make_builder().build(source)
    retriever = make_retriever()
    write_tree(source, {"docs/certificates.md": "# Certificates\n\nA certificate of completion is issued.\n"})
    dying = make_builder()

    def die() -> None:
        raise RuntimeError("killed before the commit")

    dying.before_commit = die
    with pytest.raises(RuntimeError):
        dying.build(source)
    in_chroma = {p for p in _vector_paths(index_dir)}
    assert "docs/certificates.md" in in_chroma  # Chroma holds the new file's vectors...
    for r in (retriever, make_retriever()):
        found = [c.path for c in r.retrieve("certificate of completion", k=10).chunks]
        assert "docs/certificates.md" not in found  # ...but it is not part of the index


def test_a_deleted_file_never_comes_back_even_if_its_vectors_linger(
    source: Path,
    index_dir: Path,
    make_builder: BuilderFactory,
    make_retriever: Callable[..., Any],
    embedder: MiniLMEmbedder,
) -> None:
    make_builder().build(source)
    gone = "docs/workflows.md"
    catalog = Catalog(index_dir, readonly=True)
    try:
        old_units = [u for u in catalog.dense_units() if u.path == gone]
    finally:
        catalog.close()
    assert old_units
    retriever = make_retriever()
    question = "What are the steps to bring a new teacher on board?"
    assert gone in [c.path for c in retriever.retrieve(question, k=3).chunks]

    (source / gone).unlink()
    make_builder().build(source)
    assert gone not in view(index_dir).paths()
    # put the deleted file's vectors back, as a build that died between commit and clean-up leaves them
    vectors = VectorStore(index_dir)
    vectors.upsert(
        [u.id for u in old_units],
        np.asarray(embedder.embed([u.text for u in old_units])),
        [gone] * len(old_units),
    )
    assert gone in set(_vector_paths(index_dir))
    # Chroma itself answers the question with the deleted file's vectors first...
    nearest = vectors.query(np.asarray(embedder.embed([question]))[0], 2)
    assert {unit_id for unit_id, _ in nearest} & {u.id for u in old_units}
    # ...but the retriever keeps only what the committed catalog lists
    live = set(FILES) - {gone}
    for r in (retriever, make_retriever()):
        result = r.retrieve(question, k=len(FILES))
        assert result.chunks
        assert {c.path for c in result.chunks} <= live


def _vector_paths(index_dir: Path) -> list[str]:
    got = VectorStore(index_dir).collection.get(include=["metadatas"])
    return [m["path"] for m in got["metadatas"]]


@pytest.mark.xfail(
    strict=True,
    reason="known limitation, kept on purpose: over a handful of files, reciprocal rank fusion of three "
    "rankers favours files that all three list (here any file with a definition card) over a file "
    "only two rankers list, even first. Cutting weak dense neighbours (a similarity window of 0.15-0.3 "
    "below the best) fixes this case but lowered MRR@10 on both question sets (Course Creator dev: "
    "0.787 -> 0.71-0.77; sandbox: 0.856 -> 0.79-0.85), so the fusion is left as measured best.",
)
def test_a_file_first_for_bm25_and_file_cards_is_returned_first(
    source: Path, make_builder: BuilderFactory, make_retriever: Callable[..., Any]
) -> None:
    write_tree(
        source,
        {
            "services/certificates.py": (
                "def issue_certificate(student_id: str, track_id: str) -> str:\n"
                '    """Issue a completion certificate once a student finished every course."""\n'
                '    return f"cert-{track_id}-{student_id}"\n'
            )
        },
    )
    make_builder().build(source)
    result = make_retriever().retrieve("completion certificate for a student", k=3)
    first = result.chunks[0]
    assert first.path == "services/certificates.py"
    assert (first.scores["bm25_rank"], first.scores["dense_files_rank"]) == (1, 1)


def test_a_query_longer_than_the_model_window_is_still_answered(retriever: HybridRetriever) -> None:
    pasted = "What kinds of rooms can be reserved for live sessions? " + " ".join(
        f"context{i} paragraph pasted by the user" for i in range(400)
    )
    result = retriever.retrieve(pasted, k=3)
    assert result.chunks
    assert "migrations/0003_meeting_rooms.sql" in [c.path for c in result.chunks]
    assert any("dense" in c.scores or "file_card" in c.scores for c in result.chunks)


def test_kind_filter_and_empty_query(retriever: HybridRetriever) -> None:
    docs = retriever.retrieve("tracks", k=5, kinds={"markdown"})
    assert {c.path for c in docs.chunks} == {"docs/api.md", "docs/workflows.md"}
    assert retriever.retrieve("   ").chunks == []
