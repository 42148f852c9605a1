"""The chat page in a real browser: time from submit to the first streamed text, and the time a
200-turn conversation takes to render after a reload. Prints figures; asserts nothing.

The dashboard runs as `make run` would start it (`python -m app dashboard`, offline provider,
bundled sandbox), on a throwaway DATA_DIR; Debian's Chromium is driven through Playwright. The
200 turns are made through the same runner the dashboard uses, in this process, before the
dashboard opens the conversation.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.retrieval import ROOT

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
QUESTIONS = [
    "What roles can an instructor have on a course?",
    "How do I enroll students in a track?",
    "List the projects",
    "Which endpoint publishes a course?",
    "What does a project's status mean?",
]
MESSAGES = "[data-testid='stChatMessage']"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _env(data_dir: Path, index_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANTHROPIC_", "OPENAI_", "LLM_", "PLATFORM_"))
    }
    env.update(DATA_DIR=str(data_dir), INDEX_DIR=str(index_dir), LLM_PROVIDER="offline", HF_HUB_OFFLINE="1")
    return env


def _start(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "dashboard", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the dashboard did not start")


def _sign_in(page: Any, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Maya Patel · Organization admin").click()
    page.get_by_text("What can I help you with?").wait_for()


def _time_to_first_text(page: Any, question: str) -> float:
    """Seconds from Enter to the new answer's first text on screen."""
    before = page.locator(MESSAGES).count()
    box = page.get_by_placeholder("Ask about the platform, or ask for a change ...")
    box.wait_for(state="visible")
    page.wait_for_function("() => !document.querySelector('textarea[disabled]')")
    box.fill(question)
    started = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(
        """([selector, before]) => {
            const all = document.querySelectorAll(selector);
            if (all.length < before + 2) return false;
            const last = all[all.length - 1];
            return Array.from(last.querySelectorAll('p')).some(p => p.innerText.trim().length > 20);
        }""",
        arg=[MESSAGES, before],
        timeout=60_000,
    )
    return time.perf_counter() - started


def _make_long_conversation(data_dir: Path, index_dir: Path, turns: int) -> tuple[str, float]:
    """A conversation of `turns` turns made through the runner; returns its id and the seconds it took."""
    os.environ.update(_env(data_dir, index_dir))
    from app.config import Settings
    from app.services import build_services
    from sandbox.seed import DEMO_LOGINS

    services = build_services(Settings())
    try:
        email, password = DEMO_LOGINS["northwind-academy"]["organization_admin"]
        user = services.sign_in(email, password)
        conv = services.store.conversations.create(user.user_id, user.organization_id, title="200 turns")
        started = time.perf_counter()
        for i in range(turns):
            live = services.runner.send(services.turn_deps(), conv.id, user, QUESTIONS[i % len(QUESTIONS)])
            live.wait(60)
        elapsed = time.perf_counter() - started
        view_times = []
        from app.conversation.view import conversation_view

        for last in (30, None):
            t0 = time.perf_counter()
            conversation_view(services.store, conv.id, last=last)
            view_times.append((time.perf_counter() - t0) * 1000)
        print(f"  read model: last 30 turns {view_times[0]:.0f} ms, all {turns} turns {view_times[1]:.0f} ms")
        return conv.id, elapsed
    finally:
        services.close()


def bench_chat_page(rounds: int = 20, long_turns: int = 200) -> None:
    print("\n== chat page (offline provider, bundled sandbox, Debian Chromium) ==")
    if not CHROMIUM.exists():
        print(f"  skipped: no Chromium at {CHROMIUM} (make setup-dev installs it)")
        return
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="bench-chat-"))
    index_dir = work / "index"
    subprocess.run([sys.executable, "-m", "indexing", "build", str(ROOT / "sandbox"), "--quiet"],
                   cwd=ROOT, env=_env(work / "data", index_dir), check=True, capture_output=True)  # fmt: skip
    proc, url = _start(_env(work / "data", index_dir))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(60_000)
            _sign_in(page, url)
            times = [_time_to_first_text(page, QUESTIONS[i % len(QUESTIONS)]) for i in range(rounds)]
            print(
                f"  submit -> first answer text on screen, {rounds} turns: median {statistics.median(times) * 1000:.0f} ms, "
                f"p95 {_pct(times, 0.95) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
            )
            conv_id, made = _make_long_conversation(work / "data", index_dir, long_turns)
            print(f"  made a {long_turns}-turn conversation through the runner in {made:.0f} s")
            reloads = []
            for _ in range(5):
                started = time.perf_counter()
                page.goto(f"{url}/?c={conv_id}")
                page.get_by_role("button", name="Show earlier turns (170 more)").wait_for()
                page.wait_for_function(f'() => document.querySelectorAll("{MESSAGES}").length >= 60')
                reloads.append(time.perf_counter() - started)
            print(
                f"  reload of the {long_turns}-turn conversation (latest 30 turns drawn): median "
                f"{statistics.median(reloads) * 1000:.0f} ms, max {max(reloads) * 1000:.0f} ms"
            )
            clicks = []
            for shown in range(60, 2 * long_turns, 60):
                started = time.perf_counter()
                page.get_by_role("button", name=re.compile("Show earlier turns")).click()
                page.wait_for_function(
                    f'() => document.querySelectorAll("{MESSAGES}").length >= {min(shown + 60, 2 * long_turns)}'
                )
                clicks.append(time.perf_counter() - started)
            print(
                f"  'Show earlier turns' up to all {long_turns}: {len(clicks)} clicks, the last (all {long_turns} "
                f"turns drawn) {clicks[-1] * 1000:.0f} ms"
            )
            browser.close()
    finally:
        proc.terminate()
        proc.wait(15)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    bench_chat_page()
