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


def latency(env: dict[str, str], questions: Path, rounds: int, mode: str = "search") -> tuple[float, float]:
    """Median and p95 latency (ms) of RetrievalService.search in `mode` ("search": interactive,
    "turn": a chat turn's retrieval), in-process after a warm-up query."""
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
        f"        t=time.perf_counter(); svc.search(q,10,mode={mode!r}); out.append((time.perf_counter()-t)*1000)\n"
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


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def wait_for_idle() -> str:
    """With BENCH_IDLE_LOAD set (e.g. 0.8), wait until the 1-minute load average is below it
    (polling every 30 s, for at most BENCH_IDLE_WAIT_S, default 900 s) so a timing is not taken
    while something else runs on the machine. Returns the load the measurement starts under."""
    limit = os.environ.get("BENCH_IDLE_LOAD")
    if limit:
        deadline = time.monotonic() + float(os.environ.get("BENCH_IDLE_WAIT_S", "900"))
        while time.monotonic() < deadline:
            try:
                if float(load_average()) < float(limit):
                    break
            except ValueError:
                break
            time.sleep(30)
    return load_average()


@dataclass
class QuestionSet:
    name: str
    path: Path


def evaluate(env: dict[str, str], qset: QuestionSet, work: Path, mode: str, full: bool) -> None:
    """`python -m indexing eval` on one question set: the whole table (overall and per kind) when
    `full`, else its overall line; and the platform team's evaluator on the same results."""
    out = work / f"results-{qset.name}-{mode}.jsonl"
    result = run_cli(["eval", "--questions", str(qset.path), "--out", str(out), "--mode", mode], env)
    lines = result.output.rstrip().splitlines()
    if full:
        print(f"   -- {qset.name} ({_count(qset.path)} questions), {mode} --")
        print("   " + "\n   ".join(lines[:-1]))
    else:
        overall = next(line for line in lines if line.startswith("overall"))
        print(f"   {qset.name:<9} {overall[len('overall') :].strip()}")
    shared = ROOT.parent / "shared" / "bench" / "eval_retrieval.py"
    if full and shared.is_file():
        proc = subprocess.run(
            [sys.executable, str(shared), "--questions", str(qset.path), "--results", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        print(f"   shared evaluator: {proc.stdout.strip().splitlines()[-1]}")


def _count(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def bench_corpus(
    name: str, corpus: Path, question_sets: list[QuestionSet], changed_file: str, rounds: int = 5
) -> None:
    print(f"\n== {name}: {corpus}")
    sets = [q for q in question_sets if q.path.is_file()]
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        work = Path(tmp)
        tree = work / "tree"
        linked_copy(corpus, tree)
        index = work / "index"
        env = {**os.environ, "INDEX_DIR": str(index), "DATA_DIR": str(work / "data")}
        print(f"(1-minute load average at the start of the build: {wait_for_idle()})")
        full = run_cli(["build", str(tree), "--quiet"], env)
        print(f"full build:             {full.seconds:7.1f} s   peak memory {full.peak_mb:6.0f} MB")
        print("   " + full.output.strip().replace("\n", "\n   "))
        again = run_cli(["build", str(tree), "--quiet"], env)
        print(f"re-run, nothing changed: {again.seconds:6.2f} s")
        change_one_file(tree, changed_file)
        one = run_cli(["build", str(tree), "--quiet"], env)
        print(f"re-run, one file changed: {one.seconds:5.2f} s   ({changed_file})")
        print("   " + one.output.strip().splitlines()[1].strip())
        if not sets:
            return
        passages = index / "passages.sqlite"

        def empty_cache() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{passages}{suffix}").unlink(missing_ok=True)

        print("before the passage fill (cards and BM25 only): interactive search, recall@1/5/10 MRR@10")
        for qset in sets:
            evaluate(env, qset, work, "search", full=False)
        print("before the passage fill, chat turns (each set from an empty cache; the best 30 candidates'")
        print("passages embedded on the fly within 0.5 s a turn):")
        for qset in sets:
            empty_cache()
            evaluate(env, qset, work, "turn", full=False)
        empty_cache()
        load = wait_for_idle()
        median, p95 = latency(env, sets[0].path, 1, "turn")
        print(
            f"chat-turn latency with an empty cache ({sets[0].name}, one round, load {load}): "
            f"median {median:.0f} ms, p95 {p95:.0f} ms"
        )
        empty_cache()
        print(f"(1-minute load average at the start of the fill: {wait_for_idle()})")
        # BENCH_FILL_SECONDS caps the fill (it is resumable); the figures after it are then those
        # of a partly filled cache, as the output's "incomplete" says.
        cap = os.environ.get("BENCH_FILL_SECONDS")
        fill = run_cli(["fill-cache", "--quiet", *(["--max-seconds", cap] if cap else [])], env)
        print(f"passage fill (background job): {fill.seconds:7.1f} s wall (its peak memory below)")
        print("   " + fill.output.strip())
        complete = "; complete;" in fill.output
        print(
            "after the fill (chat turn = interactive search once every passage is cached):"
            if complete
            else f"after a fill stopped at {cap} s (BENCH_FILL_SECONDS): turns embed what they lack"
        )
        for qset in sets:
            evaluate(env, qset, work, "turn", full=True)
        for mode, label in (("search", "interactive search"), ("turn", "chat-turn retrieval")):
            load = wait_for_idle()
            median, p95 = latency(env, sets[0].path, rounds, mode)
            print(
                f"{label} latency over {rounds} rounds of {sets[0].name} (load {load}): "
                f"median {median:.1f} ms, p95 {p95:.1f} ms"
            )
