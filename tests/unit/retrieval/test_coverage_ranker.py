"""The coverage and kind-hint rankers of HybridRetriever: the first stage's head files ranked by
how much of the question they cover, and the files of the kind the question asks for, over a real
BM25 index (no embedder: BM25 and these two only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.retrieval.hybrid import FusionWeights, HybridRetriever
from app.retrieval.index_reader import IndexSnapshot
from indexing.bm25_index import LexicalIndex
from indexing.catalog import StoredChunk
from indexing.lexical import tokenize

TEXTS = {
    # the monitoring guide has three of the question's words in one short chunk
    ("g1", "docs/monitoring.md"): "grafana port prometheus",
    # the compose file answers each part of the question in its own chunk, among other settings
    ("c1", "docker-compose.yml"): "grafana image volumes restart port 3000",
    ("c2", "docker-compose.yml"): "prometheus image volumes restart retention 15d",
    ("x1", "svc/courses.py"): "courses tracks prometheus",
    ("x2", "svc/tracks.py"): "tracks image volumes",
    ("x3", "svc/users.py"): "users restart",
}
QUERY = "Which port is grafana on and what is the prometheus retention?"


class Reader:
    def __init__(self, folder: Path, texts: dict[tuple[str, str], str] = TEXTS) -> None:
        kinds = {"yml": "yaml", "yaml": "yaml", "py": "python", "md": "markdown", "sql": "sql"}
        chunks = [
            StoredChunk(
                cid, path, kinds.get(path.rsplit(".", 1)[-1], "text"), "lines", "", 1, 3, text, {}, []
            )
            for (cid, path), text in texts.items()
        ]
        LexicalIndex.build_base(
            [tokenize(f"{c.path}\n{c.text}") for c in chunks], [c.id for c in chunks], folder
        )
        by_path: dict[str, list[StoredChunk]] = {}
        for c in chunks:
            by_path.setdefault(c.path, []).append(c)
        self.snap = IndexSnapshot(1, {c.id: c for c in chunks}, by_path, {}, LexicalIndex.load(folder), {})

    def snapshot(self) -> IndexSnapshot:
        return self.snap


@pytest.fixture
def retriever(tmp_path: Path) -> HybridRetriever:
    return HybridRetriever(Reader(tmp_path / "bm25"), None)  # type: ignore[arg-type]


def _paths(retriever: HybridRetriever, weights: FusionWeights) -> list[str]:
    return [c.path for c in retriever.retrieve(QUERY, k=5, weights=weights).chunks]


def test_bm25_alone_prefers_the_chunk_that_repeats_words(retriever: HybridRetriever) -> None:
    assert _paths(retriever, FusionWeights(coverage=0.0, kind_hint=0.0))[0] == "docs/monitoring.md"


def test_the_file_that_covers_every_part_of_the_question_moves_up(retriever: HybridRetriever) -> None:
    ranks = retriever.rankings(QUERY, FusionWeights(coverage=1.0, kind_hint=0.0))
    assert ranks["coverage"][0][0] == "docker-compose.yml"
    assert ranks["coverage"][0][1] == pytest.approx(1.0)
    assert _paths(retriever, FusionWeights(coverage=1.0, kind_hint=0.0))[0] == "docker-compose.yml"


def test_the_coverage_rank_is_part_of_the_evidence(retriever: HybridRetriever) -> None:
    hits = retriever.retrieve(QUERY, k=5).chunks
    by_path = {c.path: c.scores for c in hits}
    assert by_path["docker-compose.yml"]["coverage_rank"] == 1
    off = retriever.retrieve(QUERY, k=5, weights=FusionWeights(coverage=0.0)).chunks
    assert all("coverage_rank" not in c.scores for c in off)
    assert retriever.rankings(QUERY, FusionWeights(coverage=0.0))["coverage"] == []


def test_only_the_head_is_ranked_by_coverage(tmp_path: Path) -> None:
    narrow = HybridRetriever(Reader(tmp_path / "bm25"), None, coverage_depth=1)  # type: ignore[arg-type]
    assert len(narrow.rankings(QUERY)["coverage"]) == 1


LIMITS = {
    (
        "s1",
        "svc/projects.py",
    ): "def create_project(org): if count(org.projects) >= settings.max_projects: raise",
    ("s2", "svc/projects.py"): "projects per organization are counted before a project is created",
    ("d1", "docs/projects.md"): "projects of an organization: create, archive and delete projects",
    ("y1", "conf/config.yaml"): "organization: max_projects_per_org: 100 max_members_per_org: 1000",
    ("x1", "svc/users.py"): "users of an organization",
}
LIMIT_QUERY = "What is the default maximum number of projects an organization can have?"


def test_a_question_about_a_default_gives_configuration_files_a_vote(tmp_path: Path) -> None:
    retriever = HybridRetriever(Reader(tmp_path / "bm25", LIMITS), None)  # type: ignore[arg-type]
    off = FusionWeights(kind_hint=0.0, coverage=0.0, expansion=0.0)
    without = [c.path for c in retriever.retrieve(LIMIT_QUERY, k=5, weights=off).chunks]
    assert without.index("conf/config.yaml") > 0
    ranks = retriever.rankings(LIMIT_QUERY, FusionWeights(kind_hint=1.0, coverage=0.0, expansion=0.0))
    assert [p for p, _ in ranks["kind_hint"]] == ["conf/config.yaml"]
    assert ranks["fused"][0][0] == "conf/config.yaml"
    hit = retriever.retrieve(LIMIT_QUERY, k=5).chunks
    assert {c.path: c.scores for c in hit}["conf/config.yaml"]["kind_hint_rank"] == 1


def test_no_kind_hint_without_its_words(tmp_path: Path) -> None:
    retriever = HybridRetriever(Reader(tmp_path / "bm25", LIMITS), None)  # type: ignore[arg-type]
    assert retriever.rankings("projects of an organization")["kind_hint"] == []
