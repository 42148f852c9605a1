"""LexicalIndex.coverage (the share of a question's terms a file has anywhere) and the bridged
terms BM25 searches with a lower weight."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexing.bm25_index import LexicalIndex
from indexing.lexical import tokenize

DOCS = {
    "a1": "grafana port 3000 dashboards",
    "a2": "prometheus retention 15d metrics",
    "b1": "grafana prometheus grafana prometheus monitoring guide",
    "c1": "unrelated words about courses",
    "c2": "more course words tracks",
}
FILES = {"compose.yml": ["a1", "a2"], "guide.md": ["b1"], "courses.py": ["c1", "c2"]}


@pytest.fixture
def index(tmp_path: Path) -> LexicalIndex:
    ids = list(DOCS)
    LexicalIndex.build_base([tokenize(DOCS[c]) for c in ids], ids, tmp_path / "base")
    return LexicalIndex.load(tmp_path / "base")


def test_a_file_covering_every_part_of_the_question_in_different_chunks_covers_it_all(
    index: LexicalIndex,
) -> None:
    terms = tokenize("grafana port and prometheus retention")
    covered = index.coverage(terms, FILES)
    assert covered["compose.yml"] == pytest.approx(1.0)
    # the guide has grafana and prometheus (many times) but neither port nor retention
    assert 0.0 < covered["guide.md"] < 0.6
    assert "courses.py" not in covered  # none of the terms: left out
    # BM25 alone prefers the guide's one chunk that repeats two of the words
    assert index.search(tokenize("grafana prometheus"), 3)[0][0] == "b1"


def test_rare_terms_weigh_more_than_common_ones(index: LexicalIndex) -> None:
    rare_only = index.coverage(tokenize("retention"), {"f": ["a2"]})["f"]
    assert rare_only == pytest.approx(1.0)
    mixed = index.coverage(tokenize("retention grafana"), {"x": ["a2"], "y": ["a1"]})
    # "retention" is in one chunk, "grafana" in two: having the rare one covers more
    assert mixed["x"] > mixed["y"] > 0


def test_unknown_terms_and_empty_groups(index: LexicalIndex) -> None:
    assert index.coverage(["zzzunknown"], FILES) == {}
    assert index.coverage(tokenize("grafana"), {"none": []}) == {}
    assert index.coverage([], FILES) == {}


def test_extra_terms_add_their_weighted_share(index: LexicalIndex) -> None:
    terms = tokenize("grafana")
    plain = index.coverage(terms, FILES)
    bridged = index.coverage(terms, FILES, extra=tokenize("retention"), extra_weight=0.5)
    assert bridged["compose.yml"] == pytest.approx(plain["compose.yml"] + 0.5)
    assert bridged["guide.md"] == pytest.approx(plain["guide.md"])
    off = index.coverage(terms, FILES, extra=tokenize("retention"), extra_weight=0.0)
    assert off == plain


def test_coverage_reads_the_delta_and_ignores_removed_chunks(tmp_path: Path, index: LexicalIndex) -> None:
    # compose.yml changed: a2 removed from the base, its new chunk a3 (no "retention") in the delta
    delta = tmp_path / "delta.json"
    LexicalIndex.write_delta(delta, "base", ["a2"], [("a3", tokenize("prometheus scrape interval"))])
    changed = LexicalIndex.load(tmp_path / "base", delta)
    groups = {"compose.yml": ["a1", "a3"], "guide.md": ["b1"]}
    covered = changed.coverage(tokenize("prometheus retention"), groups)
    assert "retention" not in DOCS["b1"]
    # retention is in no live chunk any more: it counts for nothing, prometheus is in both files
    assert covered["compose.yml"] == pytest.approx(1.0)
    assert covered["guide.md"] == pytest.approx(1.0)
    stale = changed.coverage(tokenize("retention"), {"old": ["a2"]})
    assert stale == {}


def test_search_adds_the_extra_terms_with_their_weight(index: LexicalIndex) -> None:
    terms = tokenize("grafana")
    plain = dict(index.search(terms, 10))
    bridged = dict(index.search(terms, 10, extra=tokenize("retention"), extra_weight=0.25))
    only_extra = dict(index.search(tokenize("retention"), 10))
    assert set(bridged) == set(plain) | set(only_extra)
    assert bridged["a2"] == pytest.approx(0.25 * only_extra["a2"])
    assert bridged["a1"] == pytest.approx(plain["a1"])
    assert index.search(terms, 10, extra=tokenize("retention"), extra_weight=0.0) == index.search(terms, 10)
    # extra terms alone still search (a question made only of bridged words)
    assert index.search([], 10, extra=tokenize("retention"), extra_weight=0.5)[0][0] == "a2"
