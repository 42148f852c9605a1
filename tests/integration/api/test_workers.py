"""Two worker processes behind one port, with Redis: what happens through one worker (or the
dashboard, another process) reaches sockets held by the other, and a resume works on any worker.

`python -m app serve --workers 2` runs as a real subprocess against the module's sandbox platform
and the local Redis (a key prefix of this test's own); sockets are opened until both workers
hold one.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from app.config import Settings
from app.permissions.policy import UserContext
from app.providers.offline import OfflineProvider
from app.services import build_services
from sandbox.server import RunningSandbox
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.redis
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def two_workers(
    tmp_path: Path, sandbox: RunningSandbox, redis_url: str, redis_key_prefix: str
) -> Iterator[str]:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANTHROPIC_", "OPENAI_", "LLM_", "DATABASE_URL"))
    }
    env.update(DATA_DIR=str(tmp_path), INDEX_DIR=str(tmp_path / "no-index"), LLM_PROVIDER="offline",
               PLATFORM_BASE_URL=sandbox.base_url, REDIS_URL=redis_url, REDIS_KEY_PREFIX=redis_key_prefix,
               PYTHONPATH=str(REPO))  # fmt: skip
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "app", "serve", "--workers", "2", "--port", str(port)],
                               cwd=REPO, env=env, stdout=log, stderr=log)  # fmt: skip
    url = f"127.0.0.1:{port}"
    try:
        answered: set[int] = set()  # both workers listening: each has a socket of its own
        for _ in range(300):
            try:
                health = httpx.get(f"http://{url}/health", timeout=1).json()
                if health["events_across_processes"]:
                    answered.add(health["worker"])
                if len(answered) == 2:
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                time.sleep(0.2)
        else:
            raise RuntimeError((tmp_path / "serve.log").read_text()[-2000:])
        yield url
    finally:
        process.terminate()
        process.wait(20)


def receive(ws: ClientConnection, kind: str, limit: int = 400) -> list[dict[str, Any]]:
    frames = []
    for _ in range(limit):
        frame = json.loads(ws.recv(timeout=30))
        frames.append(frame)
        if frame["type"] == kind:
            return frames
    raise AssertionError(f"no {kind}: {[f['type'] for f in frames]}")


def open_socket(stack: ExitStack, url: str) -> ClientConnection:
    return stack.enter_context(connect(url))


def on_each_worker(
    stack: ExitStack, url: str, user: UserContext, query: str = ""
) -> dict[int, tuple[ClientConnection, dict[str, Any]]]:
    """Open sockets until two workers hold one each; the others are closed."""
    held: dict[int, tuple[ClientConnection, dict[str, Any]]] = {}
    for _ in range(40):
        ws = open_socket(stack, f"ws://{url}/ws/ai-assistant?token={user.token}{query}")
        hello = json.loads(ws.recv(timeout=10))
        if hello["worker"] in held:
            ws.close()
        else:
            held[hello["worker"]] = (ws, hello)
        if len(held) == 2:
            return held
    raise AssertionError("forty connections all landed on one worker")


def test_events_cross_workers_and_a_resume_works_on_any(two_workers: str, sign_in: Callable[..., UserContext],
                                                        redis_url: str, redis_key_prefix: str, tmp_path: Path,
                                                        sandbox: RunningSandbox) -> None:  # fmt: skip
    from tests.integration.conversation.conftest import ADMIN_A

    admin = sign_in(ADMIN_A)
    stack = ExitStack()
    with stack:
        check_across_workers(stack, two_workers, admin, redis_url, redis_key_prefix, tmp_path, sandbox)


def check_across_workers(stack: ExitStack, two_workers: str, admin: UserContext, redis_url: str, redis_key_prefix: str,
                         tmp_path: Path, sandbox: RunningSandbox) -> None:  # fmt: skip
    (a, hello_a), _ = list(on_each_worker(stack, two_workers, admin).values())
    cid = hello_a["conversation_id"]
    a.send(json.dumps({"type": "user_message", "content": "List the projects"}))
    receive(a, "done")
    first = on_each_worker(stack, two_workers, admin, f"&conversation_id={cid}&last_seq=0")
    sockets = {worker: ws for worker, (ws, hello) in first.items() if hello["resumed"]}
    assert len(sockets) == 2  # both follow the conversation, one on each worker
    (wa, a2), (wb, b) = sockets.items()
    for ws in (a2, b):
        receive(ws, "resumed")
    a2.send(
        json.dumps(
            {
                "type": "user_message",
                "content": "create an intermediate Scala track in Cloud Engineering Pathway",
            }
        )
    )
    proposal = next(
        f for f in receive(b, "done") if f["type"] == "action_proposed"
    )  # seen on the other worker
    receive(a2, "done")
    b.send(
        json.dumps(
            {"type": "approve_action", "action_id": proposal["action_id"], "digest": proposal["digest"]}
        )
    )
    executed = next(
        f for f in receive(a2, "done") if f["type"] == "action_executed"
    )  # decided through worker b
    assert executed["ok"] and wa != wb
    last = executed["seq"]
    receive(b, "done")

    # the dashboard, another process, proposes and decides through Redis too
    settings = Settings(data_dir=tmp_path, index_dir=tmp_path / "no-index", platform_base_url=sandbox.base_url,
                        redis_url=redis_url, redis_key_prefix=redis_key_prefix, _env_file=None)  # fmt: skip
    dashboard = build_services(settings, provider=OfflineProvider())
    try:
        live = dashboard.runner.send(dashboard.turn_deps(), cid, admin, "how many tracks are there?")
        assert live.wait(30)
        seen = receive(a2, "done")
        assert seen[0]["type"] == "turn_started" and seen[0]["label"] == "how many tracks are there?"
    finally:
        dashboard.close()
    b.close()

    # a resume from the last frame seen, on whichever worker answers
    resumed = open_socket(
        stack, f"ws://{two_workers}/ws/ai-assistant?token={admin.token}&conversation_id={cid}&last_seq={last}"
    )
    assert json.loads(resumed.recv(timeout=10))["resumed"]
    replay = receive(resumed, "resumed")
    seqs = [f["seq"] for f in replay if f["type"] not in ("response", "resumed")]
    assert seqs[0] == last + 1 and seqs == list(range(last + 1, last + 1 + len(seqs)))
    resumed.close()
    a2.close()

    metrics = httpx.get(f"http://{two_workers}/metrics").text
    assert "assistant_turns_total" in metrics and "gen_ai_client_token_usage" in metrics


def worker_of(stack: ExitStack, url: str, user: UserContext) -> int:
    ws = open_socket(stack, f"ws://{url}/ws/ai-assistant?token={user.token}")
    worker = int(json.loads(ws.recv(timeout=10))["worker"])
    ws.close()
    return worker


def test_sockets_spread_over_the_workers_and_a_dead_worker_is_replaced(
    two_workers: str, sign_in: Callable[..., UserContext]
) -> None:
    """Each worker listens on a socket of its own (SO_REUSEPORT), so a burst of connections is
    spread by the kernel rather than taken by whichever worker wakes first; a worker that dies is
    started again and the service keeps answering meanwhile."""
    from tests.integration.conversation.conftest import ADMIN_A

    admin = sign_in(ADMIN_A)
    with ExitStack() as stack:
        sockets = []
        for _ in range(40):  # held open together, as a page full of widgets would
            ws = open_socket(stack, f"ws://{two_workers}/ws/ai-assistant?token={admin.token}")
            sockets.append(int(json.loads(ws.recv(timeout=10))["worker"]))
        counts = {pid: sockets.count(pid) for pid in set(sockets)}
        assert len(counts) == 2 and min(counts.values()) >= 8, counts  # binomial(40, 1/2) < 8: about 1e-4

        victim = next(iter(counts))
        os.kill(victim, signal.SIGKILL)
        replaced: set[int] = set()
        for _ in range(150):  # about 30 s: the supervisor notices, the new worker starts
            with contextlib.suppress(OSError, WebSocketException):  # one the killed worker had queued
                replaced.add(worker_of(stack, two_workers, admin))
            if replaced - set(counts):
                break
            time.sleep(0.2)
        assert victim not in replaced and len(replaced - set(counts)) == 1, (counts, replaced)
        assert httpx.get(f"http://{two_workers}/health", timeout=5).status_code == 200
