"""Eval metrics against hand-computed values, and agreement with the platform team's evaluator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from indexing.evaluation import Question, distinct, format_table, load_questions, normalize, score, summarize

SHARED_EVALUATOR = Path("/work/shared/bench/eval_retrieval.py")


def test_normalize_and_distinct() -> None:
    assert normalize("./services/a.py") == "services/a.py"
    assert normalize("././a.py") == "a.py"
    assert normalize("/abs/a.py") == "abs/a.py"
    assert normalize("docs\\api.md ") == "docs/api.md"
    assert distinct(["a.py", "./a.py", "b.py", "a.py", "", "c.py", "b.py"]) == ["a.py", "b.py", "c.py"]


@pytest.mark.parametrize(
    ("gold", "retrieved", "expected"),
    [
        # first gold file at distinct rank 1
        (["a.py"], ["a.py", "b.py"], (1.0, 1.0, 1.0, 1.0)),
        # rank 3 once duplicates are removed (a, a, b, a, c -> a, b, c)
        (["c.py"], ["a.py", "a.py", "b.py", "./a.py", "c.py"], (0.0, 1.0, 1.0, 1 / 3)),
        # rank 6: outside the top 5, inside the top 10
        (["f.py"], ["a", "b", "c", "d", "e", "f.py", "g"], (0.0, 0.0, 1.0, 1 / 6)),
        # rank 11: counts nowhere
        (["k.py"], [f"{i}.py" for i in range(10)] + ["k.py"], (0.0, 0.0, 0.0, 0.0)),
        # several gold files: the best-ranked one counts
        (["x.py", "b.py", "z.py"], ["a.py", "b.py", "x.py"], (0.0, 1.0, 1.0, 0.5)),
        # ./ prefixes on either side are normalized
        (["./docs/api.md"], ["docs/api.md"], (1.0, 1.0, 1.0, 1.0)),
        (["docs/api.md"], ["./docs/api.md"], (1.0, 1.0, 1.0, 1.0)),
        # nothing retrieved
        (["a.py"], [], (0.0, 0.0, 0.0, 0.0)),
        # ten duplicates of a wrong file still leave the gold file at rank 2
        (["g.py"], ["w.py"] * 10 + ["g.py"], (0.0, 1.0, 1.0, 0.5)),
    ],
)
def test_score_by_hand(gold: list[str], retrieved: list[str], expected: tuple[float, ...]) -> None:
    got = score(gold, retrieved)
    assert set(got) == {"recall@1", "recall@5", "recall@10", "mrr@10"}
    assert (got["recall@1"], got["recall@5"], got["recall@10"]) == expected[:3]
    assert got["mrr@10"] == pytest.approx(expected[3])


QUESTIONS = [
    Question("q1", "how do I enroll students", ["api/enroll.py"], "api"),
    Question("q2", "what is the project limit", ["config/limits.yaml"], "config"),
    Question("q3", "who can publish a track", ["rbac/policy.py", "docs/rbac.md"], "rbac"),
    Question("q4", "what tables hold rooms", ["migrations/001.sql"], "data_model"),
    Question("q5", "how does publishing work", ["docs/workflows.md"], "workflow"),
]
RESULTS = {
    "q1": ["api/enroll.py", "api/enroll.py", "docs/api.md"],  # rank 1
    "q2": ["a.py", "b.py", "./config/limits.yaml"],  # rank 3
    "q3": ["x.py", "y.py", "z.py", "w.py", "v.py", "u.py", "docs/rbac.md"],  # rank 7
    "q4": ["a.py"],  # not found
    # q5 missing entirely: scores 0
}


def test_summarize_overall_and_per_kind() -> None:
    table = summarize(QUESTIONS, RESULTS)
    assert list(table) == ["overall", "api", "config", "data_model", "rbac", "workflow"]
    overall = table["overall"]
    assert overall["n"] == 5
    assert overall["recall@1"] == pytest.approx(1 / 5)
    assert overall["recall@5"] == pytest.approx(2 / 5)
    assert overall["recall@10"] == pytest.approx(3 / 5)
    assert overall["mrr@10"] == pytest.approx((1 + 1 / 3 + 1 / 7) / 5)
    assert table["config"] == {
        "recall@1": 0.0,
        "recall@5": 1.0,
        "recall@10": 1.0,
        "mrr@10": pytest.approx(1 / 3),
        "n": 1.0,
    }
    assert table["workflow"]["mrr@10"] == 0.0
    text = format_table(table)
    assert text.splitlines()[-1] == f"recall@5=0.400 mrr@10={(1 + 1 / 3 + 1 / 7) / 5:.3f}"


def test_load_questions_and_a_clear_error_for_a_bad_line(tmp_path: Path) -> None:
    good = tmp_path / "q.jsonl"
    good.write_text(
        '{"id": 1, "question": "q?", "gold": ["a.py"]}\n\n{"id": "b", "question": "r?", "gold": [], "kind": "api"}\n'
    )
    assert load_questions(good) == [Question("1", "q?", ["a.py"], "?"), Question("b", "r?", [], "api")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "question": "q?", "gold": ["a.py"]}\n{"id": 2}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: not a question line"):
        load_questions(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match=r"empty\.jsonl: no questions"):
        load_questions(empty)


@pytest.mark.skipif(not SHARED_EVALUATOR.is_file(), reason="the shared evaluator is not on this machine")
def test_agrees_with_the_shared_evaluator(tmp_path: Path) -> None:
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        "".join(
            json.dumps({"id": q.id, "question": q.question, "gold": q.gold, "kind": q.kind}) + "\n"
            for q in QUESTIONS
        )
    )
    results = tmp_path / "results.jsonl"
    results.write_text(
        "".join(json.dumps({"id": qid, "retrieved": paths}) + "\n" for qid, paths in RESULTS.items())
    )
    run = subprocess.run(
        [sys.executable, str(SHARED_EVALUATOR), "--questions", str(questions), "--results", str(results)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    theirs = run.stdout.strip().splitlines()[-1]
    ours = format_table(summarize(load_questions(questions), RESULTS)).splitlines()[-1]
    assert theirs == ours == "recall@5=0.400 mrr@10=0.295"
    # the per-kind rows agree too
    their_rows = {line.split()[0]: line.split()[1:] for line in run.stdout.splitlines() if line[:1].isalpha()}
    for line in format_table(summarize(load_questions(questions), RESULTS)).splitlines()[2:-1]:
        name, *values = line.split()
        assert their_rows[name] == values
