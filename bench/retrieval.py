"""Indexing and retrieval benchmarks: build time, one-file re-index time, peak memory, query
latency and retrieval quality. Prints figures; asserts nothing (targets live in bench/README.md).

Every build runs in a child process (`python -m indexing ...`), so its wall time includes start-up
and its peak memory is measured on its own (getrusage of the finished child). The codebase is
never modified: the one-file change is made in a hard-linked copy of the tree.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    seconds: float
    peak_mb: float
    output: str


def run_cli(args: list[str], env: dict[str, str]) -> Run:
    """Run `python -m indexing ARGS` and measure wall time and the child's peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "indexing", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        raise RuntimeError(f"indexing {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    # ru_maxrss of children is the largest child so far: only meaningful when it grew.
    return Run(seconds, max(peak, before) / 1024, proc.stdout)


def linked_copy(source: Path, dest: Path) -> None:
    """A copy of the tree made of hard links (instant, no space), so a file can be changed in the
    copy by replacing it, never by writing through the link into the original."""

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:  # another filesystem: a real copy
            shutil.copy2(src, dst)

    shutil.copytree(source, dest, copy_function=link_or_copy, symlinks=True)


def change_one_file(tree: Path, relative: str) -> None:
    path = tree / relative
    text = path.read_text(encoding="utf-8", errors="replace")
    path.unlink()  # break the hard link first
    path.write_text(text + "\n# benchmark edit: one changed line\n", encoding="utf-8")


def latency(env: dict[str, str], questions: Path, rounds: int) -> tuple[float, float]:
    """Median and p95 query latency (ms) of the retriever, in-process after a warm-up query."""
    code = (
        "import json,sys,time\n"
        "from app.config import get_settings\n"
        "from app.retrieval.service import RetrievalService\n"
        "svc=RetrievalService(get_settings())\n"
        "qs=[json.loads(l)['question'] for l in open(sys.argv[1]) if l.strip()]\n"
        "svc.search('warm up the model and the index',10)\n"
        "out=[]\n"
        f"for _ in range({rounds}):\n"
        "    for q in qs:\n"
        "        t=time.perf_counter(); svc.search(q,10); out.append((time.perf_counter()-t)*1000)\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(questions)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    values = sorted(json.loads(proc.stdout.strip().splitlines()[-1]))
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return statistics.median(values), p95


def bench_corpus(name: str, corpus: Path, questions: Path | None, changed_file: str, rounds: int = 5) -> None:
    print(f"\n== {name}: {corpus}")
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        work = Path(tmp)
        tree = work / "tree"
        linked_copy(corpus, tree)
        env = {**os.environ, "INDEX_DIR": str(work / "index"), "DATA_DIR": str(work / "data")}
        full = run_cli(["build", str(tree), "--quiet"], env)
        print(f"full build:             {full.seconds:7.1f} s   peak memory {full.peak_mb:6.0f} MB")
        print("   " + full.output.strip().replace("\n", "\n   "))
        again = run_cli(["build", str(tree), "--quiet"], env)
        print(f"re-run, nothing changed: {again.seconds:6.2f} s")
        change_one_file(tree, changed_file)
        one = run_cli(["build", str(tree), "--quiet"], env)
        print(f"re-run, one file changed: {one.seconds:5.2f} s   ({changed_file})")
        print("   " + one.output.strip().splitlines()[1].strip())
        if questions is not None and questions.is_file():
            result = run_cli(
                ["eval", "--questions", str(questions), "--out", str(work / "results.jsonl")], env
            )
            print(result.output.rstrip())
            median, p95 = latency(env, questions, rounds)
            print(f"query latency over {rounds} rounds: median {median:.1f} ms, p95 {p95:.1f} ms")
            shared = ROOT.parent / "shared" / "bench" / "eval_retrieval.py"
            if shared.is_file():
                proc = subprocess.run(
                    [
                        sys.executable,
                        str(shared),
                        "--questions",
                        str(questions),
                        "--results",
                        str(work / "results.jsonl"),
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                print(f"shared evaluator: {proc.stdout.strip().splitlines()[-1]}")
