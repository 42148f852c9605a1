"""`python -m app serve` with ASSISTANT_TLS_CERT and ASSISTANT_TLS_KEY serves https and wss."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from app.permissions.policy import UserContext
from sandbox.server import RunningSandbox
from tests.e2e.conftest import free_port

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a test certificate")
def test_tls(tmp_path: Path, sandbox: RunningSandbox, admin: UserContext) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)  # fmt: skip
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANTHROPIC_", "OPENAI_", "LLM_", "DATABASE_URL", "REDIS_"))
    }
    env.update(DATA_DIR=str(tmp_path), INDEX_DIR=str(tmp_path / "no-index"), LLM_PROVIDER="offline",
               PLATFORM_BASE_URL=sandbox.base_url, ASSISTANT_TLS_CERT=str(cert), ASSISTANT_TLS_KEY=str(key),
               PYTHONPATH=str(REPO))  # fmt: skip
    process = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    trust = ssl.create_default_context(cafile=str(cert))
    try:
        for _ in range(150):
            try:
                if httpx.get(f"https://127.0.0.1:{port}/health", verify=trust, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError("the service did not answer over https")
        with pytest.raises(httpx.HTTPError):  # plain http is not served on a TLS port
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
        with connect(f"wss://127.0.0.1:{port}/ws/ai-assistant?token={admin.token}", ssl=trust) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "connected"
    finally:
        process.terminate()
        process.wait(20)


def test_tls_needs_both_files(tmp_path: Path) -> None:
    env = {**os.environ, "ASSISTANT_TLS_CERT": str(tmp_path / "cert.pem"), "PYTHONPATH": str(REPO)}
    env.pop("ASSISTANT_TLS_KEY", None)
    done = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", "1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "TLS needs both ASSISTANT_TLS_CERT and ASSISTANT_TLS_KEY" in done.stderr


def test_two_workers_need_redis(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(PYTHONPATH=str(REPO), DATA_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "app", "serve", "--workers", "2"], cwd=REPO, env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode != 0 and "needs REDIS_URL" in done.stderr
