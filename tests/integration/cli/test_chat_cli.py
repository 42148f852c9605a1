"""`python -m app chat` end to end: a real subprocess, the real anthropic SDK against the fake
server, the bundled sandbox started in-process by the CLI, stdin scripted like a person typing.

Everything the user would see is asserted on stdout; what happened is checked in the sandbox's
own database and in the assistant's store afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from app.store import Store
from tests.fakes.anthropic_server import FakeAnthropicServer, reply_text, reply_tool_use, usage

REPO = Path(__file__).resolve().parents[3]
ADMIN = ("maya.patel@northwind-academy.example", "OrgAdmin#2024")
CLEARED = ("ANTHROPIC_", "OPENAI_", "LLM_", "PLATFORM_", "SANDBOX_", "INDEX_", "REDIS_", "CCA_")


def chat_env(tmp_path: Path, server: FakeAnthropicServer | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED)}
    for name in ("DATA_DIR", "DATABASE_URL", "LOCAL_MODEL_PATH"):
        env.pop(name, None)
    env.update(
        PYTHONPATH=str(REPO),
        DATA_DIR=str(tmp_path / "data"),
        INDEX_DIR=str(tmp_path / "no-index"),
        LLM_MAX_RETRIES="0",
        LLM_TIMEOUT_S="20",
        CCA_CHAT_EMAIL=ADMIN[0],
        CCA_CHAT_PASSWORD=ADMIN[1],
    )
    if server is not None:
        env.update(ANTHROPIC_API_KEY="test-key", ANTHROPIC_BASE_URL=server.base_url, LLM_PROVIDER="anthropic")
    env.update(extra)
    return env


def run_chat(tmp_path: Path, env: dict[str, str], stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "chat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=90,
    )


def tool_result_json(body: dict[str, Any]) -> Any:
    """The JSON of the first tool_result in the request's last message."""
    block = next(b for b in body["messages"][-1]["content"] if b["type"] == "tool_result")
    return json.loads(block["content"])


def create_track_from_lookup(name: str, level: str = "beginner") -> Any:
    def decide(body: dict[str, Any]) -> Any:
        project_id = tool_result_json(body)[0]["id"]
        return reply_tool_use(
            "create_track", {"project_id": project_id, "name": name, "difficulty_level": level}
        )

    return decide


def tracks_named(tmp_path: Path, name: str) -> list[tuple[str, str]]:
    with sqlite3.connect(tmp_path / "data" / "sandbox.db") as db:
        return list(db.execute("SELECT name, difficulty_level FROM tracks WHERE name = ?", (name,)))


def test_question_then_an_approved_write(tmp_path: Path, anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.enqueue(
        reply_text(
            "Tracks group courses inside a project.",
            usage=usage(input_tokens=1000, output_tokens=20, cache_creation_input_tokens=3000),
        ),
        reply_tool_use("find_project", {"name": "Data Science Foundations"}),
        create_track_from_lookup("Python Fundamentals"),
        reply_text("Created Python Fundamentals. Would you like to add courses to it?"),
    )
    stdin = "How do tracks work?\nCreate a beginner track Python Fundamentals in Data Science Foundations\ny\n/quit\n"
    done = run_chat(tmp_path, chat_env(tmp_path, anthropic_server), stdin)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    out = done.stdout
    assert "Mode: Claude (claude-sonnet-5-5)" in out
    assert "Signed in as Maya Patel (organization admin)" in out
    assert "assistant> Tracks group courses inside a project." in out
    # 1000 x $2 + 20 x $10 + 3000 x $2.50 per million (claude-sonnet-5-5's list price in genai-prices)
    assert "cache write 3000 cache read 0" in out
    assert "cost $0.009700" in out
    assert "tool find_project(name='Data Science Foundations') ok" in out
    assert (
        "PROPOSED [write] Create track 'Python Fundamentals' (beginner) in project Data Science Foundations"
        in out
    )
    assert "Approve? [y/N/e(dit)]" in out
    assert "EXECUTED: Created track 'Python Fundamentals'" in out
    assert "assistant> Created Python Fundamentals. Would you like to add courses to it?" in out
    assert out.index("PROPOSED") < out.index("EXECUTED") < out.index("Would you like to add courses")
    assert tracks_named(tmp_path, "Python Fundamentals") == [("Python Fundamentals", "beginner")]
    assert anthropic_server.pending == 0
    # the decision reached the model as the result of the create_track call
    decision = tool_result_json(anthropic_server.bodies[-1])
    assert decision["decision"] == "executed"
    assert decision["message"].startswith("Created track 'Python Fundamentals'")


def test_edit_then_approve_and_reject_with_reason(
    tmp_path: Path, anthropic_server: FakeAnthropicServer
) -> None:
    anthropic_server.enqueue(
        reply_tool_use("find_project", {"name": "Data Science Foundations"}),
        create_track_from_lookup("SQL Basics"),
        reply_text("Done: SQL Basics is advanced now."),
        reply_tool_use("find_project", {"name": "Data Science Foundations"}),
        create_track_from_lookup("Spark Streaming"),
        reply_text("Understood, I did not create it."),
    )
    stdin = (
        "Create a track SQL Basics in Data Science Foundations\n"
        "e\ndifficulty_level=advanced\n\ny\n"
        "Create a track Spark Streaming in Data Science Foundations\n"
        "n\nnot this quarter\n/pending\n/quit\n"
    )
    done = run_chat(tmp_path, chat_env(tmp_path, anthropic_server), stdin)

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "current arguments:" in out
    assert "PROPOSED [write] Create track 'SQL Basics' (advanced) in project Data Science Foundations" in out
    assert "EXECUTED: Created track 'SQL Basics'" in out
    assert "REJECTED: Rejected: not this quarter" in out
    assert "nothing is waiting for you" in out
    assert tracks_named(tmp_path, "SQL Basics") == [("SQL Basics", "advanced")]
    assert tracks_named(tmp_path, "Spark Streaming") == []


def test_a_deletion_asks_for_the_name_and_pending_actions_can_be_decided_later(
    tmp_path: Path, anthropic_server: FakeAnthropicServer
) -> None:
    def delete_found(body: dict[str, Any]) -> Any:
        return reply_tool_use("delete_track", {"track_id": tool_result_json(body)[0]["id"]})

    anthropic_server.enqueue(
        reply_tool_use("find_project", {"name": "Data Science Foundations"}),
        create_track_from_lookup("Doomed"),
        reply_text("Created Doomed."),
        reply_tool_use("find_track", {"name": "Doomed"}),
        delete_found,
        reply_text("Doomed is deleted."),
    )
    stdin = (
        "Create a track Doomed in Data Science Foundations\ny\n"
        "Delete the track Doomed\ny\ndoomed\n"
        "/pending\ny\nDoomed\n/quit\n"
    )
    done = run_chat(tmp_path, chat_env(tmp_path, anthropic_server), stdin)

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "PROPOSED [destructive] Delete track 'Doomed'" in out
    assert "This deletes data. Type 'Doomed' to confirm:" in out
    assert "error (action_refused): To confirm, type the name exactly: Doomed" in out
    assert "PENDING [destructive] Delete track 'Doomed'" in out
    assert "EXECUTED: Track deleted." in out
    assert "assistant> Doomed is deleted." in out
    assert tracks_named(tmp_path, "Doomed") == []


def test_wrong_password_exits_2_without_traceback(tmp_path: Path) -> None:
    env = chat_env(tmp_path, None, ANTHROPIC_API_KEY="k", CCA_CHAT_PASSWORD="wrong-password")
    done = run_chat(tmp_path, env, "/quit\n", "--model", "claude-haiku-5-5")
    assert done.returncode == 2
    assert "Mode: Claude (claude-haiku-5-5)" in done.stdout  # --model overrides ANTHROPIC_MODEL
    assert "Traceback" not in done.stderr
    assert f"error: sign-in as {ADMIN[0]} failed: Email or password is wrong (401)" in done.stderr


def test_unreachable_platform_exits_2_without_traceback(tmp_path: Path) -> None:
    env = chat_env(tmp_path, None, ANTHROPIC_API_KEY="k", PLATFORM_BASE_URL="http://127.0.0.1:9/api/v1")
    done = run_chat(tmp_path, env, "/quit\n")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert (
        "error: the platform is unreachable: cannot reach the platform at http://127.0.0.1:9/api/v1"
        in done.stderr
    )


def test_provider_without_key_and_bad_settings_exit_2(tmp_path: Path) -> None:
    done = run_chat(tmp_path, chat_env(tmp_path, None), "", "--provider", "anthropic")
    assert done.returncode == 2
    assert "set ANTHROPIC_API_KEY" in done.stderr
    done = run_chat(tmp_path, chat_env(tmp_path, None, LLM_PROVIDER="claude"), "")
    assert done.returncode == 2
    assert "invalid settings: LLM_PROVIDER" in done.stderr
    assert "Traceback" not in done.stderr


class Interactive:
    """A chat subprocess fed line by line, its stdout collected as it arrives."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "chat"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tmp_path,
        )
        self.output = b""
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := os.read(self.proc.stdout.fileno(), 4096):
            with self._lock:
                self.output += chunk

    @property
    def text(self) -> str:
        with self._lock:
            return self.output.decode(errors="replace")

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def wait_for(self, needle: str, timeout: float = 30.0, after: int = 0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.text.find(needle, after)
            if found >= 0:
                return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"{needle!r} did not appear; output so far:\n{self.text}")


def test_ctrl_c_cancels_the_running_answer_and_the_chat_goes_on(
    tmp_path: Path, anthropic_server: FakeAnthropicServer
) -> None:
    long = "Tracks are learning paths inside a project, each at one level. " * 6
    anthropic_server.enqueue(reply_text(long, chunk_size=6, chunk_delay=0.1), reply_text("Second answer."))
    chat = Interactive(tmp_path, chat_env(tmp_path, anthropic_server))
    try:
        chat.wait_for("you> ", timeout=60)
        chat.send("Tell me about tracks")
        chat.wait_for("assistant> Tracks")
        chat.proc.send_signal(signal.SIGINT)
        at = chat.wait_for("error (cancelled): Cancelled.")
        chat.send("What next?")
        chat.wait_for("assistant> Second answer.", after=at)
        chat.send("/quit")
        assert chat.proc.wait(timeout=30) == 0
    finally:
        if chat.proc.poll() is None:
            chat.proc.kill()
            chat.proc.wait()
    assert anthropic_server.wait_for_disconnect(5)
    assert long not in chat.text  # the answer was cut short
    with sqlite3.connect(tmp_path / "data" / "assistant.db") as db:
        (user_id,) = {row[0] for row in db.execute("SELECT user_id FROM conversations")}
    with Store(f"sqlite:///{tmp_path / 'data' / 'assistant.db'}") as store:
        (conv,) = store.conversations.list_for_user(user_id)
        texts = [b.get("text", "") for m in store.conversations.list_messages(conv.id) for b in m.content]
    assert any(t.startswith("Tracks") and t.endswith("[cancelled]") for t in texts), texts
    assert "Second answer." in texts
    # the second request replays the cancelled partial answer as history
    second = anthropic_server.bodies[-1]["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]


def test_warnings_go_to_the_log_file_not_across_the_answer(
    tmp_path: Path, anthropic_server: FakeAnthropicServer
) -> None:
    """A model without a price logs a warning while the answer streams: it must not be printed."""
    anthropic_server.enqueue(reply_text("Tracks group courses inside a project."))
    env = chat_env(tmp_path, anthropic_server, ANTHROPIC_MODEL="claude-unpriced-test-1")
    done = run_chat(tmp_path, env, "How do tracks work?\n/quit\n")
    assert done.returncode == 0, done.stderr
    assert "assistant> Tracks group courses inside a project." in done.stdout
    log_file = tmp_path / "data" / "logs" / "chat.log"
    assert f"Warnings and errors are logged to {log_file}" in done.stdout
    for stream in (done.stdout, done.stderr):
        assert "no price for model" not in stream and "WARNING" not in stream
    assert "no price for model 'claude-unpriced-test-1'" in log_file.read_text(encoding="utf-8")
