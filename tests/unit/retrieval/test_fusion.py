"""Reciprocal rank fusion and per-file aggregation against hand-computed numbers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.retrieval.fusion import aggregate_by_file, reciprocal_rank_fusion


def test_weighted_rrf_by_hand() -> None:
    fused = reciprocal_rank_fusion(
        {"bm25": ["a", "b", "c"], "dense": ["b", "d"]}, {"bm25": 1.0, "dense": 0.5}, k=60
    )
    assert [item for item, _ in fused] == ["b", "a", "c", "d"]
    scores = dict(fused)
    assert scores["b"] == pytest.approx(1 / 62 + 0.5 / 61)
    assert scores["a"] == pytest.approx(1 / 61)
    assert scores["c"] == pytest.approx(1 / 63)
    assert scores["d"] == pytest.approx(0.5 / 62)


def test_rrf_k_changes_the_scores() -> None:
    fused = dict(reciprocal_rank_fusion({"x": ["a", "b"]}, {"x": 2.0}, k=0))
    assert fused == {"a": pytest.approx(2.0), "b": pytest.approx(1.0)}


def test_rrf_depth_cuts_each_ranking() -> None:
    fused = reciprocal_rank_fusion({"bm25": ["a", "b", "c"], "dense": ["c", "a"]}, {}, k=10, depth=2)
    scores = dict(fused)
    # c counts only from the dense ranking (rank 1); bm25's rank 3 is beyond the depth
    assert scores == {
        "a": pytest.approx(1 / 11 + 1 / 12),
        "c": pytest.approx(1 / 11),
        "b": pytest.approx(1 / 12),
    }
    assert [item for item, _ in fused] == ["a", "c", "b"]


def test_rrf_missing_weight_is_one_and_ties_break_by_name() -> None:
    fused = reciprocal_rank_fusion({"x": ["zeta"], "y": ["alpha"]}, {"x": 1.0}, k=60)
    assert fused == [("alpha", pytest.approx(1 / 61)), ("zeta", pytest.approx(1 / 61))]
    assert reciprocal_rank_fusion({}, {}) == []


def test_aggregate_by_file_best_plus_half_the_second() -> None:
    hits = [("a.py", 0.9), ("b.py", 0.8), ("a.py", 0.5), ("b.py", 0.7), ("c.py", 0.95), ("a.py", 0.4)]
    assert aggregate_by_file(hits) == [
        ("a.py", pytest.approx(1.15)),  # 0.9 + 0.5 * 0.5; the third hit adds nothing
        ("b.py", pytest.approx(1.15)),  # 0.8 + 0.5 * 0.7; tie broken by name
        ("c.py", pytest.approx(0.95)),
    ]
    assert aggregate_by_file(hits, second_weight=0.0) == [
        ("c.py", pytest.approx(0.95)),
        ("a.py", pytest.approx(0.9)),
        ("b.py", pytest.approx(0.8)),
    ]
    assert aggregate_by_file([]) == []


_rankings = st.dictionaries(
    st.sampled_from(["bm25", "dense_chunks", "dense_files"]),
    st.lists(st.sampled_from([f"f{i}.py" for i in range(12)]), unique=True, max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(_rankings, st.integers(1, 100), st.integers(1, 12))
def test_rrf_invariants(rankings: dict[str, list[str]], k: int, depth: int) -> None:
    weights = {"bm25": 1.0, "dense_chunks": 0.7, "dense_files": 0.5}
    fused = reciprocal_rank_fusion(rankings, weights, k=k, depth=depth)
    items = [item for item, _ in fused]
    # every item within the depth of some ranking, once
    assert sorted(items) == sorted({i for r in rankings.values() for i in r[:depth]})
    # sorted by score, then name
    assert fused == sorted(fused, key=lambda x: (-x[1], x[0]))
    # each score is the weighted sum of its reciprocal ranks
    for item, value in fused:
        expected = sum(
            weights[name] / (k + r.index(item) + 1) for name, r in rankings.items() if item in r[:depth]
        )
        assert value == pytest.approx(expected)
    # an item first in every ranking that holds anything is first overall
    firsts = {r[0] for r in rankings.values() if r}
    if len(firsts) == 1 and all(r for r in rankings.values()):
        assert items[0] == firsts.pop()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.floats(0, 10)), max_size=30))
def test_aggregate_invariants(hits: list[tuple[str, float]]) -> None:
    out = aggregate_by_file(hits)
    assert sorted(p for p, _ in out) == sorted({p for p, _ in hits})
    for path, value in out:
        mine = sorted((s for p, s in hits if p == path), reverse=True)
        assert mine[0] <= value <= mine[0] + 0.5 * (mine[1] if len(mine) > 1 else 0.0) + 1e-9
    assert out == sorted(out, key=lambda x: (-x[1], x[0]))
