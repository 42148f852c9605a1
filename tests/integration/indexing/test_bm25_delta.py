"""Small changes are written as a BM25 delta over the base: what it serves must match a full
rebuild of the same chunks (same matching chunks, same best chunk), across successive deltas,
deletions and the switch back to a fresh base."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.retrieval.index_reader import IndexReader
from indexing.bm25_index import LexicalIndex
from indexing.catalog import Catalog
from indexing.lexical import tokenize

from .conftest import BuilderFactory, bm25_entries, view
from .platform_repo import write_tree

QUERIES = [
    "maximum projects per organization",
    "meeting rooms kinds",
    "enroll students waitlist",
    "certificates archived",
    "badge awards ceremony",
]


@pytest.fixture
def big_source(source: Path) -> Path:
    """The platform plus 120 one-chunk files without words, so one file is a small change."""
    write_tree(source, {f"pkg/m{i:03d}.py": f"x{i} = {i}\n" for i in range(120)})
    return source


def _full_rebuild(index_dir: Path, tmp: Path) -> LexicalIndex:
    catalog = Catalog(index_dir, readonly=True)
    try:
        pairs = [(c.id, c.terms) for c in catalog.chunks()]
    finally:
        catalog.close()
    folder = tmp / "reference"
    LexicalIndex.build_base([t for _, t in pairs], [cid for cid, _ in pairs], folder)
    return LexicalIndex.load(folder)


def _assert_matches_a_full_rebuild(index_dir: Path, tmp: Path) -> None:
    served = IndexReader(index_dir).snapshot()
    reference = _full_rebuild(index_dir, tmp)
    assert sorted(served.lexical.chunk_ids) == sorted(reference.chunk_ids) == sorted(served.chunks)
    for query in QUERIES:
        terms = tokenize(query)
        got = served.lexical.search(terms, 1000)
        want = reference.search(terms, 1000)
        assert {cid for cid, _ in got} == {cid for cid, _ in want}, query
        assert all(cid in served.chunks for cid, _ in got)
        if want:
            assert got[0][0] == want[0][0], query
            # the delta's approximation (the base's statistics) stays close to the exact scores
            assert got[0][1] == pytest.approx(want[0][1], rel=0.15)


def test_deltas_serve_what_a_full_rebuild_would(
    big_source: Path, index_dir: Path, make_builder: BuilderFactory, tmp_path: Path
) -> None:
    make_builder().build(big_source)
    base = view(index_dir).state["bm25_base"]
    assert view(index_dir).state["bm25_delta"] == ""

    # 1. one small file changes: a delta over the same base
    (big_source / "config" / "limits.yaml").write_text("limits:\n  max_projects_per_org: 99\n")
    make_builder().build(big_source)
    state = view(index_dir).state
    assert state["bm25_base"] == base and state["bm25_delta"]
    _assert_matches_a_full_rebuild(index_dir, tmp_path / "1")

    # 2. a file is added: the delta grows, still over the same base
    write_tree(big_source, {"docs/badges.md": "# Badges\n\nBadge awards are handed out at a ceremony.\n"})
    make_builder().build(big_source)
    state = view(index_dir).state
    assert state["bm25_base"] == base and state["bm25_delta"]
    _assert_matches_a_full_rebuild(index_dir, tmp_path / "2")
    assert bm25_entries(index_dir) == view(index_dir).bm25_references()

    # 3. the first changed file is deleted: its delta document goes, no ghost remains
    (big_source / "config" / "limits.yaml").unlink()
    make_builder().build(big_source)
    state = view(index_dir).state
    _assert_matches_a_full_rebuild(index_dir, tmp_path / "3")
    served = IndexReader(index_dir).snapshot()
    assert served.lexical.search(["maximum_project_per_organiz"], 10) == []  # only that file had it

    # 4. a large change writes a fresh base and drops the delta
    for name in ("api/routes/tracks.py", "domain/track.py", "services/enrollment_service.py"):
        path = big_source / name
        path.write_text(path.read_text() + "\n# certificates are archived with the track\n")
    make_builder().build(big_source)
    state = view(index_dir).state
    assert state["bm25_base"] != base and state["bm25_delta"] == ""
    _assert_matches_a_full_rebuild(index_dir, tmp_path / "4")
    assert bm25_entries(index_dir) == view(index_dir).bm25_references()


def test_one_small_change_scores_like_a_full_rebuild(
    big_source: Path, index_dir: Path, make_builder: BuilderFactory, tmp_path: Path
) -> None:
    make_builder().build(big_source)
    (big_source / "config" / "limits.yaml").write_text("limits:\n  max_projects_per_org: 99\n")
    make_builder().build(big_source)
    assert view(index_dir).state["bm25_delta"]
    terms = tokenize("max_projects_per_org")
    (got_id, got), *_ = IndexReader(index_dir).snapshot().lexical.search(terms, 5)
    (want_id, want), *_ = _full_rebuild(index_dir, tmp_path).search(terms, 5)
    assert got_id == want_id
    assert got == pytest.approx(want, rel=0.01)
