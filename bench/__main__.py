"""`python -m bench` (make bench): indexing and retrieval figures, and the chat page in a browser.

`python -m bench chat` runs only the chat page figures, `python -m bench operators` only the operator
pages' (SQLite and PostgreSQL), `python -m bench retrieval` only indexing and retrieval,
`python -m bench service` only the assistant service under concurrent WebSocket sessions,
`python -m bench caching` only the Claude prompt cache's share of each request (bench/caching.py).

Always measured on the bundled sandbox (its own 52 evaluation questions). Measured on the real
Course Creator codebase too when COURSE_CREATOR_DIR points at a checkout of it (see
bench/README.md for how to get one at the pinned commit), with three question sets reported
separately: the development questions in BENCH_QUESTIONS (default:
../shared/bench/course_creator_dev.jsonl), the tuning part (bench/questions/course_creator_tune.jsonl)
and the held-out part (bench/questions/course_creator_holdout.jsonl, never used to tune anything).
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

from bench.caching import bench_caching
from bench.chat_page import bench_chat_page
from bench.operator_pages import bench_operator_pages
from bench.retrieval import ROOT, QuestionSet, bench_corpus


def main() -> None:
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}")
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    if only in ("", "chat"):
        bench_chat_page()
    if only in ("", "operators"):
        bench_operator_pages()
    if only in ("", "retrieval"):
        bench_retrieval()
    if only in ("", "caching"):
        bench_caching()
    if only in ("", "service"):
        from bench.service import bench_service

        bench_service()


def bench_retrieval() -> None:
    bench_corpus(
        "sandbox",
        ROOT / "sandbox",
        [QuestionSet("sandbox", ROOT / "sandbox" / "eval" / "questions.jsonl")],
        changed_file="services/organization_management/tracks.py",
    )
    cc = os.environ.get("COURSE_CREATOR_DIR")
    if not cc:
        print(
            "\n(COURSE_CREATOR_DIR is not set: the Course Creator figures are skipped; see bench/README.md)"
        )
        return
    questions = Path(
        os.environ.get("BENCH_QUESTIONS", ROOT.parent / "shared" / "bench" / "course_creator_dev.jsonl")
    )
    bench_corpus(
        "course-creator",
        Path(cc),
        [
            QuestionSet("dev", questions),
            QuestionSet("tune", ROOT / "bench" / "questions" / "course_creator_tune.jsonl"),
            QuestionSet("holdout", ROOT / "bench" / "questions" / "course_creator_holdout.jsonl"),
        ],
        changed_file="services/organization-management/api/track_endpoints.py",
    )


if __name__ == "__main__":
    main()
