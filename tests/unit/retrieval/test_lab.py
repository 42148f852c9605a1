"""The Retrieval lab's own arithmetic: side-by-side rankings, replays, question sets, comparable runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from app.retrieval import lab
from app.store.records import EvalRunData
from indexing.evaluation import Question


def test_rankings_side_by_side() -> None:
    table = lab.ranking_table({"bm25": [("a.py", 9.5), ("b.md", 3.0)], "fused": [("b.md", 0.03)]}, depth=3)
    assert table["rank"].tolist() == [1, 2, 3]
    assert table["BM25"].tolist()[:2] == ["a.py", "b.md"] and table["BM25"].isna().tolist() == [
        False,
        False,
        True,
    ]
    assert table["BM25 score"].tolist()[:2] == [9.5, 3.0]
    assert table["Fused (RRF)"][0] == "b.md" and table["Fused (RRF)"][1:].isna().all()
    assert table["Dense (file cards)"].isna().all()


def test_a_replay_says_what_moved() -> None:
    then = [{"path": "a.py"}, {"path": "b.md"}, {"path": "a.py"}, {"path": "c.sql"}]  # a.py twice: one file
    diff = lab.replay_diff(then, ["b.md", "a.py", "d.yaml"])
    assert diff["file"].tolist() == ["b.md", "a.py", "d.yaml", "c.sql"]
    assert diff["change"].tolist() == ["up 1", "down 1", "new", "dropped"]
    assert [None if pd.isna(v) else int(v) for v in diff["then"]] == [2, 1, None, 3]
    assert [None if pd.isna(v) else int(v) for v in diff["now"]] == [1, 2, 3, None]


def test_question_sets_are_hashed_by_content_and_parsed_with_clear_errors() -> None:
    q1, q2 = Question("1", "who?", ["a.py"], "api"), Question("2", "how?", ["b.md", "c.md"], "workflow")
    assert lab.questions_sha([q1, q2]) == lab.questions_sha([q2, q1])
    assert lab.questions_sha([q1, q2]) != lab.questions_sha([q1, Question("2", "how?", ["b.md"], "workflow")])
    text = '{"id": "1", "question": "who?", "gold": ["a.py"], "kind": "api"}\n\n{"id": 2, "question": "x", "gold": ["b"]}\n'
    parsed = lab.parse_questions(text, "up.jsonl")
    assert [(q.id, q.kind) for q in parsed] == [("1", "api"), ("2", "?")]
    with pytest.raises(ValueError, match=r"up\.jsonl, line 2"):
        lab.parse_questions('{"id": 1, "question": "q", "gold": ["a"]}\nnot json\n', "up.jsonl")
    with pytest.raises(ValueError, match="gold must be a non-empty list"):
        lab.parse_questions('{"id": 1, "question": "q", "gold": []}', "up.jsonl")
    with pytest.raises(ValueError, match="no questions"):
        lab.parse_questions("\n\n", "empty.jsonl")


def run(at: datetime, sha: str = "q", index: str = "gen 1", k: int = 8, recall: float = 0.5) -> EvalRunData:
    metrics = {
        "overall": {
            "recall@1": recall,
            "recall@5": recall,
            "recall@10": recall,
            "mrr@10": recall / 2,
            "n": 4.0,
        }
    }
    return EvalRunData(
        f"r{at.minute}", at, None, "set", sha, 4, index, {"k": k, "bm25": 1.0}, metrics, [], 1.0
    )


def test_only_runs_of_the_same_questions_index_and_settings_compare() -> None:
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    a, b, c = run(t0), run(t0 + timedelta(minutes=5), recall=0.75), run(t0 + timedelta(minutes=9))
    other_index, other_k, other_set = run(t0, index="gen 2"), run(t0, k=5), run(t0, sha="other")
    same = lab.comparable([c, other_index, a, other_k, b, other_set], a)
    assert same == [a, b, c]
    history = lab.history_frame(same)
    assert history["recall@5"].tolist() == [0.5, 0.75, 0.5]
    table = lab.metrics_frame(a.metrics)
    assert table.to_dict("records") == [
        {"group": "overall", "n": 4, "recall@1": 0.5, "recall@5": 0.5, "recall@10": 0.5, "mrr@10": 0.25}
    ]


def test_a_chunk_is_shown_within_its_file(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    (root / "api").mkdir()
    (root / "api" / "x.py").write_text("\n".join(f"line {n}" for n in range(1, 101)))
    first, text = lab.file_excerpt(root, "api/x.py", 50, 52, around=3) or (0, "")
    assert first == 47 and text.splitlines() == [f"line {n}" for n in range(47, 56)]
    assert lab.file_excerpt(root, "../outside.py", 1, 2) is None  # never outside the indexed tree
    assert lab.file_excerpt(root, "missing.py", 1, 2) is None
    assert lab.file_excerpt(None, "api/x.py", 1, 2) is None
