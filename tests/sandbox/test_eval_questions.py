"""The retrieval evaluation set is well formed and its gold files exist."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from sandbox.settings import SANDBOX_DIR

QUESTIONS = SANDBOX_DIR / "eval" / "questions.jsonl"
KINDS = {"api", "business_rule", "rbac", "workflow", "data_model", "config"}
PERSONAS = {"admin", "engineer", "support"}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_format_matches_the_shared_benchmark(rows: list[dict[str, Any]]) -> None:
    assert len(rows) >= 40
    for row in rows:
        assert set(row) == {"id", "question", "gold", "kind", "answer", "persona"}, row
        assert row["kind"] in KINDS and row["persona"] in PERSONAS, row
        assert row["question"].strip().endswith("?") and len(row["answer"]) > 20, row
        assert isinstance(row["gold"], list) and row["gold"], row
    assert len({row["id"] for row in rows}) == len(rows)
    assert len({row["question"] for row in rows}) == len(rows)


def test_every_kind_and_persona_is_represented(rows: list[dict[str, Any]]) -> None:
    kinds = Counter(row["kind"] for row in rows)
    assert set(kinds) == KINDS and min(kinds.values()) >= 5, kinds
    assert {row["persona"] for row in rows} == PERSONAS


def test_gold_files_exist_and_are_indexable(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        for path in row["gold"]:
            assert not path.startswith(("/", "sandbox/", "eval/")), (row["id"], path)
            assert (SANDBOX_DIR / path).is_file(), (row["id"], path)


def test_questions_paraphrase_instead_of_quoting_identifiers(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        question = row["question"]
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", question), (row["id"], "snake_case identifier")
        assert "/api" not in question and ".py" not in question and "`" not in question, row["id"]
