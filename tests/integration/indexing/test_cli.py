"""`python -m indexing build/query/stats/eval/ensure` as a user runs them: exit codes and output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from indexing.catalog import Catalog

from .platform_repo import FILES, QUESTIONS, REDACTED_FILES, SECRET_FILES, write_platform

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED_EVALUATOR = Path("/work/shared/bench/eval_retrieval.py")
_SETTINGS_VARS: tuple[str, ...] = (
    "DATA_DIR",
    "INDEX_DIR",
    "INDEX_SOURCE",
    "INDEX_INCLUDE_TESTS",
    "INDEX_MAX_FILE_KB",
)
_SETTINGS_VARS += ("CHROMA_HOST", "CHROMA_PORT", "CHROMA_COLLECTION")


@dataclass
class Cli:
    cwd: Path
    index_dir: Path
    source: Path

    def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if k not in _SETTINGS_VARS}
        base.update(
            PYTHONPATH=str(REPO_ROOT),
            INDEX_DIR=str(self.index_dir),
            INDEX_SOURCE=str(self.source),
            HF_HUB_OFFLINE="1",
            ANONYMIZED_TELEMETRY="False",
        )
        base.update(env)
        return subprocess.run(
            [sys.executable, "-m", "indexing", *args],
            cwd=self.cwd,  # no developer .env is read
            env=base,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Cli, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("cli")
    cli = Cli(root, root / "index", write_platform(root / "platform", with_secrets=True))
    return cli, cli("build", str(cli.source), "--quiet")


def _catalog_chunks(index_dir: Path) -> dict[tuple[str, int, int], str]:
    catalog = Catalog(index_dir, readonly=True)
    try:
        return {(c.path, c.start_line, c.end_line): c.symbol for c in catalog.chunks()}
    finally:
        catalog.close()


def test_build_prints_what_it_did(built: tuple[Cli, subprocess.CompletedProcess[str]]) -> None:
    cli, run = built
    assert run.returncode == 0, run.stderr
    n_files = len(FILES) + len(REDACTED_FILES)
    n_chunks = len(_catalog_chunks(cli.index_dir))
    lines = run.stdout.splitlines()
    assert re.fullmatch(
        rf"Indexed {re.escape(str(cli.source))}: {n_files} files \({n_files} new or changed, 0 unchanged, "
        rf"0 removed\), {n_chunks} chunks, \d+ texts embedded \(0 from cache\), 4 secrets redacted, in [\d.]+ s",
        lines[0],
    ), lines[0]
    assert lines[1].startswith("  phases: scan ")
    assert lines[2] == f"  skipped: {len(SECRET_FILES)} secret file"
    assert "Traceback" not in run.stderr


def test_query_prints_ranked_citations_and_scores(
    built: tuple[Cli, subprocess.CompletedProcess[str]],
) -> None:
    cli, _ = built
    run = cli("query", "What kinds of rooms can be reserved for live sessions?", "-k", "3")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    hits = [re.fullmatch(r" ?(\d+)\. (\S+):(\d+)-(\d+)(?:  (.*))?", line) for line in lines[0:6:2]]
    assert all(hits), lines
    assert [int(m[1]) for m in hits if m] == [1, 2, 3]
    chunks = _catalog_chunks(cli.index_dir)
    for m in hits:
        assert m is not None
        assert (m[2], int(m[3]), int(m[4])) in chunks  # a real chunk, cited path:start-end
        assert chunks[(m[2], int(m[3]), int(m[4]))] == (m[5] or "")
    assert hits[0] is not None and hits[0][2] == "migrations/0003_meeting_rooms.sql"
    assert len({m[2] for m in hits if m}) == 3  # three distinct files
    for score_line in lines[1:6:2]:
        assert re.fullmatch(r"    rrf=[\d.e-]+(  \w+=[\d.e-]+)+", score_line), score_line
    assert "bm25=" in lines[1] and "dense=" in lines[1]
    assert re.fullmatch(r"\(\d+ ms, index generation 1\)", lines[-1])
    assert len(lines) == 7


def test_query_shows_text_and_several_chunks_per_file(
    built: tuple[Cli, subprocess.CompletedProcess[str]],
) -> None:
    cli, _ = built
    run = cli("query", "enroll students into a track", "-k", "1", "--per-file", "2", "--show", "2")
    assert run.returncode == 0, run.stderr
    cited = re.findall(r"^ ?\d+\. (\S+):\d+-\d+", run.stdout, re.MULTILINE)
    assert len(cited) == 2 and len(set(cited)) == 1
    assert len(re.findall(r"^    \| ", run.stdout, re.MULTILINE)) == 4


def test_stats_prints_kinds_skips_and_redactions(built: tuple[Cli, subprocess.CompletedProcess[str]]) -> None:
    cli, _ = built
    run = cli("stats")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    catalog = Catalog(cli.index_dir, readonly=True)
    try:
        counts = catalog.counts_by_kind()
    finally:
        catalog.close()
    assert set(counts) == {"python", "markdown", "sql", "yaml", "typescript", "ini"}
    for kind, (files, chunks) in counts.items():
        assert re.search(rf"^  {kind}\s+{files}\s+{chunks}$", out, re.MULTILINE), kind
    total_files = sum(f for f, _ in counts.values())
    total_chunks = sum(c for _, c in counts.values())
    assert re.search(rf"^  total\s+{total_files}\s+{total_chunks}\s+dense texts: \d+$", out, re.MULTILINE)
    assert "  secrets redacted in indexed text: 4\n" in out
    assert re.search(r"^\s+4  secret file  \(e\.g\. \.env, \.env\.production\)$", out, re.MULTILINE)
    assert "generation: 1" in out
    assert re.search(r"size on disk: [\d.]+ MB", out)


def test_eval_writes_one_line_per_question_in_the_shared_format(
    built: tuple[Cli, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    cli, _ = built
    questions = tmp_path / "questions.jsonl"
    rows = [
        {"id": f"q{i}", "question": q, "gold": [gold], "kind": "api" if i % 2 else "config"}
        for i, (q, gold) in enumerate(QUESTIONS[:4], 1)
    ]
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "results.jsonl"
    run = cli("eval", "--questions", str(questions), "--out", str(out))
    assert run.returncode == 0, run.stderr
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in results] == ["q1", "q2", "q3", "q4"]
    for r in results:
        assert set(r) == {"id", "retrieved"}
        assert 1 <= len(r["retrieved"]) <= 10
        assert all(isinstance(p, str) and p in set(FILES) | set(REDACTED_FILES) for p in r["retrieved"])
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["group", "n", "recall@1", "recall@5", "recall@10", "mrr@10"]
    assert re.fullmatch(r"overall\s+4(\s+[\d.]+){4}", lines[2])
    assert {line.split()[0] for line in lines[3:5]} == {"api", "config"}
    assert re.fullmatch(r"query latency: median \d+ ms, p95 \d+ ms \(4 queries\)", lines[-1])
    summary = lines[-2]
    assert re.fullmatch(r"recall@5=[\d.]+ mrr@10=[\d.]+", summary)
    if SHARED_EVALUATOR.is_file():
        theirs = subprocess.run(
            [sys.executable, str(SHARED_EVALUATOR), "--questions", str(questions), "--results", str(out)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        assert theirs.stdout.strip().splitlines()[-1] == summary


def test_build_of_a_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    cli = Cli(tmp_path, tmp_path / "index", tmp_path / "platform")
    run = cli("build", str(tmp_path / "no-such-folder"))
    assert run.returncode == 2
    assert run.stderr.strip() == f"error: {tmp_path / 'no-such-folder'} is not a folder"
    assert run.stdout == ""


def test_eval_with_a_missing_questions_file_is_a_clear_error(
    built: tuple[Cli, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    cli, _ = built
    run = cli("eval", "--questions", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "r.jsonl"))
    assert run.returncode == 2
    assert run.stderr.startswith("error: ") and "none.jsonl" in run.stderr
    assert "Traceback" not in run.stderr


def test_eval_of_an_empty_question_set_is_a_clear_error(
    built: tuple[Cli, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    cli, _ = built
    (tmp_path / "empty.jsonl").write_text("")
    run = cli("eval", "--questions", str(tmp_path / "empty.jsonl"), "--out", str(tmp_path / "r.jsonl"))
    assert run.returncode == 2
    assert run.stderr.strip() == f"error: {tmp_path / 'empty.jsonl'}: no questions in this file"


def test_query_and_stats_before_any_build_say_how_to_build(tmp_path: Path) -> None:
    cli = Cli(tmp_path, tmp_path / "index", tmp_path / "platform")
    run = cli("query", "tracks")
    assert run.returncode == 2
    assert "python -m indexing build PATH" in run.stderr
    assert "Traceback" not in run.stderr
    run = cli("stats")
    assert run.returncode == 1
    assert run.stdout.strip() == (
        f"No index at {tmp_path / 'index'}. Build one with `python -m indexing build PATH`."
    )


def test_ensure_builds_the_default_corpus_once(tmp_path: Path) -> None:
    cli = Cli(tmp_path, tmp_path / "index", write_platform(tmp_path / "platform"))
    first = cli("ensure", "--quiet")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"Building the index of {cli.source} into {cli.index_dir} ...\nIndexed ")
    again = cli("ensure")
    assert again.returncode == 0
    assert (
        again.stdout.strip() == f"Index ready at {cli.index_dir} (python -m indexing build PATH to update it)"
    )
