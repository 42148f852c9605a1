"""Long work (an evaluation run, an index build) in a background thread, with progress to show.

The page that starts a job returns at once and polls the job (a fragment redraws its progress
bar), so the page stays usable while it runs; a rerun or another tab finds the same job here. One
job of a kind runs at a time (two index builds would queue on the build lock anyway). Jobs live
in this process: what they produce (an evaluation run, a new index generation) is stored.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Report = Callable[[int, int, str], None]  # done, total, what it is doing


class JobBusyError(RuntimeError):
    """A job of this kind is already running."""


@dataclass
class Job:
    id: str
    kind: str
    label: str
    started: float = field(default_factory=time.time)
    status: str = "running"  # running, done, failed
    done: int = 0
    total: int = 0
    phase: str = ""
    result: Any = None
    error: str | None = None
    ended: float | None = None

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def seconds(self) -> float:
        return (self.ended or time.time()) - self.started


class JobRunner:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, kind: str, label: str, work: Callable[[Report], Any]) -> Job:
        with self._lock:
            busy = next((j for j in self._jobs.values() if j.kind == kind and j.running), None)
            if busy is not None:
                raise JobBusyError(f"{busy.label} is already running ({busy.fraction:.0%} done).")
            job = Job(uuid.uuid4().hex, kind, label)
            self._jobs[job.id] = job

        def report(done: int, total: int, phase: str) -> None:
            job.done, job.total, job.phase = done, total, phase

        def run() -> None:
            try:
                job.result = work(report)
                job.status = "done"
            except Exception as exc:
                log.exception("job %s (%s) failed", job.label, job.id)
                job.error = f"{type(exc).__name__}: {exc}"
                job.status = "failed"
            finally:
                job.ended = time.time()

        threading.Thread(target=run, name=f"job-{kind}", daemon=True).start()
        return job

    def get(self, job_id: str | None) -> Job | None:
        return self._jobs.get(job_id or "")

    def latest(self, kind: str) -> Job | None:
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.kind == kind]
        return max(jobs, key=lambda j: j.started) if jobs else None

    def wait(self, job: Job, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while job.running and time.monotonic() < deadline:
            time.sleep(0.05)
        return not job.running
