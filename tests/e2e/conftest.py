"""The dashboard end to end: `python -m app dashboard` (the real Streamlit server) in a subprocess,
driven by Debian's Chromium through Playwright, with the bundled sandbox platform started by the
dashboard itself on a database this test seeded. Checks go through the platform's own HTTP API
(a second sandbox server on the same database file), never through the dashboard's internals.

Screenshots of every page are saved under docs/screenshots/ (SCREENSHOT_DIR overrides it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.platform.client import PlatformClient
from sandbox.server import RunningSandbox, start_in_thread
from sandbox.settings import DEFAULT_PLATFORM_CONFIG, SandboxSettings
from tests.support.dashboard import sandbox_index, seeded_sandbox_db

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", REPO / "docs" / "screenshots"))
CLEARED = ("ANTHROPIC_", "OPENAI_", "LLM_", "PLATFORM_", "SANDBOX_", "INDEX_", "REDIS_", "CCA_", "DASHBOARD_")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Dashboard:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    platform: RunningSandbox  # the same platform database, served to the test for its checks

    def client(self, email: str, password: str) -> PlatformClient:
        client = PlatformClient(self.platform.base_url)
        token = client.login(email, password).token
        client.close()
        return PlatformClient(self.platform.base_url, token)

    def log(self) -> str:
        return (self.data_dir / "dashboard.log").read_text(errors="replace")[-4000:]


def start_dashboard(data_dir: Path, seeded: Path, index: Path, **env_extra: str) -> Dashboard:
    return start_process(["dashboard"], "/_stcore/health", data_dir, seeded, index, **env_extra)


def start_service(data_dir: Path, seeded: Path, index: Path, **env_extra: str) -> Dashboard:
    """The assistant service (`python -m app serve`): widget, demo, API."""
    return start_process(["serve"], "/health", data_dir, seeded, index, **env_extra)


def start_process(
    command: list[str], health: str, data_dir: Path, seeded: Path, index: Path, **env_extra: str
) -> Dashboard:
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(seeded, data_dir / "sandbox.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED)}
    env.pop("DATABASE_URL", None)
    env.update(
        DATA_DIR=str(data_dir),
        INDEX_DIR=str(index),
        LLM_PROVIDER="offline",
        SANDBOX_PLATFORM_CONFIG=str(DEFAULT_PLATFORM_CONFIG),
        HF_HUB_OFFLINE="1",
        PYTHONPATH=str(REPO),
    )
    env.update(env_extra)
    port = free_port()
    log = (data_dir / "dashboard.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", *command, "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the dashboard exited: {(data_dir / 'dashboard.log').read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}{health}", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    else:
        process.kill()
        raise RuntimeError(f"`python -m app {command[0]}` did not answer {health} within 90 s")
    platform = start_in_thread(
        SandboxSettings(
            database_url=f"sqlite:///{data_dir / 'sandbox.db'}",
            platform_config=DEFAULT_PLATFORM_CONFIG,
            seed_on_start=False,
        )
    )
    return Dashboard(url, data_dir, process, platform)


def stop_dashboard(dashboard: Dashboard) -> None:
    dashboard.platform.stop()
    dashboard.process.terminate()
    try:
        dashboard.process.wait(15)
    except subprocess.TimeoutExpired:
        dashboard.process.kill()


@pytest.fixture(scope="module")  # not session: Playwright's event loop must be gone before other tiers run
def browser() -> Iterator[Any]:
    from playwright.sync_api import expect

    expect.set_options(timeout=45_000)  # a turn on a loaded 2-core machine can take seconds
    if not CHROMIUM.exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: `make setup-dev` installs Debian's chromium (needs root and apt)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(60_000)
    opened = context.new_page()
    yield opened
    context.close()


def shoot(page: Any, name: str, height: int = 1000) -> Path:
    """Save a screenshot of the page as it is now (the viewport, `height` pixels tall)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1440, "height": height})
    time.sleep(0.6)  # let Streamlit finish its transitions
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1440, "height": 1000})
    return path
