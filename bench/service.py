"""The assistant service under load: N concurrent WebSocket sessions, one and two workers.

Each session signs in with a platform token, opens its own conversation and sends five messages
one after another, waiting for each turn's `done`. The offline planner answers (no index, so no
retrieval and no platform call: the turn is the engine's own work: store writes, the planner,
the journal), so the figures are about the service, not a model. Printed per run:
- turns per second over the whole run;
- a turn's latency through the service (send to `done`) and, at the same concurrency, through
  the engine directly (runner.send to Done, in-process threads); the difference is what the
  service adds (target: p95 under 50 ms at 50 sessions);
- memory per open socket (the server processes' RSS with N idle sockets, minus with none);
- lost or duplicated frames: every turn must arrive whole (turn_started first, its streamed deltas
  adding up to its `response`, `done` last) and sequence numbers must only grow;
- "outside the turn": a turn's latency less the engine's own time for it (the `latency_ms` its
  Done carries, from the turn's start in the journal to its end), through the service and alone:
  the part of a turn's latency spent before and after the engine, paired turn by turn.
Two workloads: back to back (each session sends its next message the moment the answer is done:
50 such sessions saturate the 2 cores, every turn being CPU work, so a run's p95 swings by a second
from run to run), and sessions that pause 2-8 s before each next message (BENCH_SERVICE_THINK), as
people reading the answer do (and arriving over the first 8 s, not all in the same instant). Each runs BENCH_SERVICE_REPEATS times (default 3), the engine alone
and the service interleaved, and the summary gives medians over the runs.
Two workers need Redis (REDIS_URL, default the local one); the run is skipped without it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.retrieval import ROOT

TURNS = 5
MESSAGE = "hello there"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _rss_mb(pid: int) -> float:
    """RSS of a process and its children (uvicorn's workers), in MB."""
    total = 0
    pids = [pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _env(data: Path, platform: str, redis_url: str | None, prefix: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANTHROPIC_", "OPENAI_", "LLM_", "DATABASE_URL", "REDIS_"))
    }
    env.update(DATA_DIR=str(data), INDEX_DIR=str(data / "no-index"), LLM_PROVIDER="offline", PLATFORM_BASE_URL=platform,
               USER_REQUESTS_PER_MINUTE="0", USER_DAILY_BUDGET_USD="0", REDIS_KEY_PREFIX=prefix)  # fmt: skip
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


Think = tuple[float, float]  # a user's pause between an answer and their next message, from..to s


def pauses(think: Think, session: int) -> list[float]:
    """When one session sends: a first wait (sessions arrive over the first `think[1]` seconds,
    not all in the same instant), then a pause after each answer before the next message. The same
    for the engine alone and the service (seeded by the session's index)."""
    rng = random.Random(session)
    return [rng.uniform(0.0, think[1])] + [rng.uniform(*think) for _ in range(TURNS - 1)]


async def _session(
    url: str, token: str, latencies: list[float], seqs: dict[str, list[int]], problems: list[str],
    outside: list[float], waits: list[float],
) -> None:  # fmt: skip
    from websockets.asyncio.client import connect

    async with connect(f"ws://{url}/ws/ai-assistant?token={token}", max_size=2**22) as ws:
        hello = json.loads(await ws.recv())
        cid = hello["conversation_id"]
        seen = seqs.setdefault(cid, [])
        for wait in waits:
            await asyncio.sleep(wait)
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "user_message", "content": MESSAGE}))
            kinds, streamed, whole = [], "", None
            while True:
                frame = json.loads(await ws.recv())
                kinds.append(frame["type"])
                if frame.get("turn_id") and frame["type"] != "response":  # response shares done's number
                    seen.append(frame["seq"])
                if frame["type"] == "response_delta":
                    streamed += frame["content"]
                elif frame["type"] == "response":
                    whole = frame["content"]
                elif frame["type"] == "done":
                    took = time.perf_counter() - started
                    latencies.append(took)
                    outside.append(took - float((frame.get("usage") or {}).get("latency_ms") or 0) / 1000)
                    break
            if kinds[0] != "turn_started" or whole is None or streamed != whole:
                problems.append(
                    f"{cid}: frames {kinds[:3]}..., streamed text {'matches' if streamed == whole else 'differs'}"
                )


@dataclass
class Load:
    """One run's turns: latency send to `done`, and of that the part outside the engine's own turn
    (the turn's `latency_ms`, measured by the journal from the turn's start to its Done)."""

    latencies: list[float]
    outside: list[float]
    wall: float
    seqs: dict[str, list[int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


async def _load(url: str, token: str, sessions: int, think: Think = (0.0, 0.0)) -> Load:
    run = Load([], [], 0.0)
    started = time.perf_counter()
    await asyncio.gather(
        *(_session(url, token, run.latencies, run.seqs, run.problems, run.outside, pauses(think, i))
          for i in range(sessions))
    )  # fmt: skip
    run.wall = time.perf_counter() - started
    return run


async def _idle(url: str, token: str, sessions: int, pid: int) -> float:
    from websockets.asyncio.client import connect

    before = _rss_mb(pid)
    sockets = [await connect(f"ws://{url}/ws/ai-assistant?token={token}") for _ in range(sessions)]
    for ws in sockets:
        await ws.recv()
    await asyncio.sleep(1.0)
    after = _rss_mb(pid)
    for ws in sockets:
        await ws.close()
    return (after - before) * 1024 / sessions


def _engine_direct(data: Path, platform: str, token: str, sessions: int, think: Think) -> Load:
    """The same turns at the same concurrency through the engine alone, in a process of its own
    (as the service's worker is), so the difference is what the service adds."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.service", "direct", str(data), platform, token, str(sessions), json.dumps(think)],
        cwd=ROOT, env=_env(data, platform, None, "bench:"), capture_output=True, text=True, check=True,
    )  # fmt: skip
    latencies, outside, wall = json.loads(done.stdout.strip().splitlines()[-1])
    return Load([float(x) for x in latencies], [float(x) for x in outside], float(wall))


def _direct_in_this_process(
    token: str, sessions: int, think: Think
) -> tuple[list[float], list[float], float]:
    from app.config import Settings
    from app.services import build_services

    services = build_services(Settings())
    token_user = services.refresh_user(_probe(token))
    latencies: list[float] = []
    outside: list[float] = []
    lock = threading.Lock()

    def one_session(index: int) -> None:
        conv = services.store.conversations.create(token_user.user_id, token_user.organization_id).id
        for wait in pauses(think, index):
            time.sleep(wait)
            started = time.perf_counter()
            live = services.runner.send(services.turn_deps(), conv, token_user, MESSAGE)
            live.wait(120)
            took = time.perf_counter() - started
            done = live.events()[-1].to_dict()
            with lock:
                latencies.append(took)
                outside.append(took - float((done.get("usage") or {}).get("latency_ms") or 0) / 1000)

    threads = [threading.Thread(target=one_session, args=(i,)) for i in range(sessions)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    services.close()
    return latencies, outside, wall


def _probe(token: str) -> Any:
    from app.permissions.policy import UserContext

    return UserContext("", "", "", "", None, token)


def _duplicated(seqs: dict[str, list[int]]) -> int:
    """Frames whose number is not above the previous one's (numbers only grow within a conversation;
    a frame of several coalesced text deltas carries the last one's number, so gaps are normal)."""
    return sum(1 for numbers in seqs.values() for a, b in itertools.pairwise(numbers) if b <= a)


def _ms(values: list[float], q: float) -> float:
    return (statistics.median(values) if q == 0.5 else _pct(values, q)) * 1000


def _service_run(
    work: Path, platform: str, token: str, sessions: int, workers: int, redis_url: str, tag: str, think: Think
) -> tuple[float, Load]:
    """Start `python -m app serve` on a fresh store, measure memory per idle socket, then the load."""
    data = work / f"svc-{tag}"
    env = _env(data, platform, redis_url if workers > 1 else None, f"bench_{os.getpid()}_{tag}:")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--workers", str(workers), "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"127.0.0.1:{port}"
    try:
        _wait(url)
        per_socket_kb = asyncio.run(_idle(url, token, sessions, proc.pid))
        return per_socket_kb, asyncio.run(_load(url, token, sessions, think))
    finally:
        proc.terminate()
        proc.wait(30)


def bench_service(sizes: tuple[int, ...] = (50, 200), repeats: int | None = None) -> None:
    """Each size and workload `repeats` times (BENCH_SERVICE_REPEATS, default 3), the engine alone
    and the service interleaved, so that a slow moment of the machine falls on both; the summary
    takes the median over the runs of each figure, and "added" is the median of the runs'
    differences. Two workloads: back to back (every session sends its next message the moment its
    answer is done: a stress test that saturates both cores), and users who read the answer first
    (a pause drawn between BENCH_SERVICE_THINK seconds, default 2-8, the same for every system)."""
    repeats = repeats or int(os.environ.get("BENCH_SERVICE_REPEATS", "3"))
    lo, _, hi = os.environ.get("BENCH_SERVICE_THINK", "2-8").partition("-")
    workloads: list[Think] = [(0.0, 0.0)] + ([(float(lo), float(hi or lo))] if float(lo or 0) > 0 else [])
    print(
        "\n== assistant service: concurrent WebSocket sessions (offline planner, sandbox platform in its own process) =="
    )
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping()
    except Exception as exc:
        print(f"  (two workers skipped: Redis does not answer at {redis_url}: {exc})")
        redis_url = ""
    work = Path(tempfile.mkdtemp(prefix="bench-service-"))
    sandbox = _Sandbox(work)  # its own process: the clients here must not slow the platform down
    try:
        from app.platform.client import PlatformClient

        with PlatformClient(sandbox.base_url) as client:
            session = client.login("maya.patel@northwind-academy.example", "OrgAdmin#2024")
        for sessions in sizes:
            for think in workloads:
                _bench_size(work, sandbox.base_url, session.token, sessions, repeats, redis_url, think)
    finally:
        sandbox.stop()
        shutil.rmtree(work, ignore_errors=True)


def _bench_size(
    work: Path, platform: str, token: str, sessions: int, repeats: int, redis_url: str, think: Think
) -> None:
    engine: list[Load] = []
    service: dict[int, list[tuple[float, Load]]] = {1: [], 2: []}
    worker_counts = (1, 2) if redis_url else (1,)
    pace = (
        f"arriving over {think[1]:g} s, a pause of {think[0]:g}-{think[1]:g} s before each next message"
        if think[1]
        else "back to back"
    )
    print(f"  {sessions} sessions x {TURNS} turns, {pace}, {repeats} runs (send to `done`, p50 / p95 in ms):")
    for rep in range(repeats):
        tag = f"{sessions}-{think[1]:g}-{rep}"
        engine.append(_engine_direct(work / f"direct-{tag}", platform, token, sessions, think))
        line = f"    run {rep + 1}: engine alone {_ms(engine[-1].latencies, 0.5):.0f} / {_ms(engine[-1].latencies, 0.95):.0f}"
        for workers in worker_counts:
            kb, run = _service_run(
                work, platform, token, sessions, workers, redis_url, f"{tag}-{workers}", think
            )
            service[workers].append((kb, run))
            line += f"; {workers} worker{'s' if workers > 1 else ''} {_ms(run.latencies, 0.5):.0f} / {_ms(run.latencies, 0.95):.0f}"
        print(line, flush=True)
    e50 = [_ms(r.latencies, 0.5) for r in engine]
    e95 = [_ms(r.latencies, 0.95) for r in engine]
    print(f"    engine alone: p50 {statistics.median(e50):.0f} ms, p95 {statistics.median(e95):.0f} ms; "
          f"outside the turn p50 {statistics.median(_ms(r.outside, 0.5) for r in engine):.1f} ms, "
          f"p95 {statistics.median(_ms(r.outside, 0.95) for r in engine):.1f} ms; "
          f"{statistics.median(len(r.latencies) / r.wall for r in engine):.1f} turns/s")  # fmt: skip
    for workers in worker_counts:
        runs = [run for _, run in service[workers]]
        s50 = [_ms(r.latencies, 0.5) for r in runs]
        s95 = [_ms(r.latencies, 0.95) for r in runs]
        lost = sum(len(r.problems) for r in runs)
        dup = sum(_duplicated(r.seqs) for r in runs)
        print(
            f"    {workers} worker{'s' if workers > 1 else ' '}: {statistics.median(len(r.latencies) / r.wall for r in runs):.1f} turns/s; "
            f"p50 {statistics.median(s50):.0f} ms, p95 {statistics.median(s95):.0f} ms; "
            f"added over the engine alone p50 {statistics.median(a - b for a, b in zip(s50, e50, strict=True)):+.0f} ms, "
            f"p95 {statistics.median(a - b for a, b in zip(s95, e95, strict=True)):+.0f} ms "
            f"(runs: {', '.join(f'{a - b:+.0f}' for a, b in zip(s95, e95, strict=True))}); "
            f"outside the turn p50 {statistics.median(_ms(r.outside, 0.5) for r in runs):.1f} ms, "
            f"p95 {statistics.median(_ms(r.outside, 0.95) for r in runs):.1f} ms; "
            f"{statistics.median(kb for kb, _ in service[workers]):.0f} KB per open socket; "
            f"turns with a lost frame {lost}, frames duplicated {dup}"
        )  # fmt: skip


class _Sandbox:
    """`python -m sandbox serve` on a free port, seeded on first start."""

    def __init__(self, work: Path) -> None:
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}/api/v1"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "serve", "--port", str(port), "--database-url", f"sqlite:///{work / 'sandbox.db'}"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(300):
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("the sandbox did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(20)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"http://{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError("the service did not start")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "direct":  # the engine-alone baseline, in its own process
        print(
            json.dumps(_direct_in_this_process(sys.argv[4], int(sys.argv[5]), tuple(json.loads(sys.argv[6]))))
        )
    else:  # `python -m bench.service 50` measures only 50 sessions
        bench_service(tuple(int(n) for n in sys.argv[1:]) or (50, 200))
