"""`python -m app chat`: a plain terminal chat over the turn events the dashboard renders.

For scripting and quick checks: sign in as a platform user, watch answers stream with their
sources, tool calls, usage and cost, and approve, edit or reject proposed actions at a prompt.

    python -m app chat --email maya.patel@northwind-academy.example --password 'OrgAdmin#2024'

Ctrl-C stops a running answer and the chat goes on; /quit or Ctrl-D leaves. A setup problem (bad
login, unreachable platform, provider without its key) prints one line and exits with status 2.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.actions.service import ActionError
from app.config import PROJECT_ROOT, Settings
from app.conversation import events as ev
from app.conversation.runner import LiveTurn
from app.permissions.policy import UserContext
from app.platform.errors import PlatformError, PlatformUnavailableError
from app.providers.base import Provider
from app.providers.registry import build_provider, provider_mode_label, resolve_provider_name
from app.services import Services, build_services
from app.store import TurnBusyError
from app.store.records import PendingActionData

EXIT_SETUP = 2
PROVIDERS = ("auto", "anthropic", "openai", "local", "offline")
MODEL_FIELD = {"anthropic": "anthropic_model", "openai": "openai_model"}
HELP = "Type a message. /new: new conversation, /pending: actions waiting for you, /quit: leave."


class SetupError(Exception):
    """The chat cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class Waiting:
    """An action to decide on, from a fresh proposal or from the store (/pending)."""

    action_id: str
    preview: str
    risk: str
    digest: str
    confirm_name: str | None
    arguments: dict[str, Any]
    retry: bool = False  # a failed execution that may be approved again

    @staticmethod
    def of(a: ev.ActionProposed | PendingActionData) -> Waiting:
        action_id = a.action_id if isinstance(a, ev.ActionProposed) else a.id
        retry = isinstance(a, PendingActionData) and a.status == "failed"
        return Waiting(action_id, a.preview, a.risk, a.digest, a.confirm_name, dict(a.arguments), retry)


def out(text: str = "", end: str = "\n") -> None:
    sys.stdout.write(text + end)
    sys.stdout.flush()


def ask(prompt: str) -> str | None:
    """One line from the user; None at end of input."""
    try:
        return input(prompt)
    except EOFError:
        out()
        return None


class ChatSession:
    def __init__(self, services: Services, user: UserContext) -> None:
        self.services = services
        self.user = user
        self.deps = services.turn_deps()
        self.runner = services.runner
        self.conversation_id = self.new_conversation()
        self.proposals: list[Waiting] = []
        self.streaming = False

    def new_conversation(self) -> str:
        p, u = self.deps.provider, self.user
        return self.services.store.conversations.create(
            u.user_id, u.organization_id, provider=p.name, model=p.model
        ).id

    def loop(self) -> None:
        out(HELP)
        while True:
            try:
                line = ask("you> ")
            except KeyboardInterrupt:
                out("\n(Ctrl-C stops a running answer; /quit leaves)")
                continue
            if line is None:
                return
            text = line.strip()
            if text in ("/quit", "/exit"):
                return
            if text == "/new":
                self.conversation_id = self.new_conversation()
                out("(new conversation)")
            elif text == "/pending":
                self.pending()
            elif text.startswith("/"):
                out(f"Unknown command {text.split()[0]}. {HELP}")
            elif text:
                self.run(self.runner.send, self.deps, self.conversation_id, self.user, text)
            try:
                self.decide_all()
            except KeyboardInterrupt:
                self.proposals.clear()
                out("\n(left waiting; /pending shows it)")

    # --- running and rendering ----------------------------------------------------------------
    def run(self, start: Callable[..., LiveTurn], *args: Any, **kwargs: Any) -> None:
        """Start a turn (in the runner's worker thread, like the dashboard) and render its events;
        Ctrl-C meanwhile cancels the turn, not the chat."""
        try:
            live = start(*args, **kwargs)
        except ActionError as exc:
            out(f"  error (action_refused): {exc}")
            return
        except (TurnBusyError, LookupError) as exc:
            out(f"  error (busy): {exc}")
            return
        previous: Any = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, lambda _sig, _frame: self.runner.cancel(live.id))
        try:
            for event in live.follow():
                self.render(event)
        except Exception as exc:  # a rendering bug must not end the chat with a traceback
            self.end_stream()
            out(f"  error (internal): {type(exc).__name__}: {exc}")
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            self.end_stream()

    def end_stream(self) -> None:
        if self.streaming:
            out()
            self.streaming = False

    def render(self, e: ev.Event) -> None:
        if isinstance(e, ev.TextDelta):
            if not self.streaming:
                out("assistant> ", end="")
                self.streaming = True
            out(e.text, end="")
            return
        self.end_stream()
        if isinstance(e, ev.Thinking):
            if e.step > 1:
                out(f"  (thinking, step {e.step})")
        elif isinstance(e, ev.ContextRetrieved):
            cited = [c for c in e.chunks if c.get("cite")]
            for c in cited:
                out(f"  [{c['cite']}] {c['path']}:{c['start_line']}-{c['end_line']}")
            if not cited:
                out("  (no sources retrieved)")
        elif isinstance(e, ev.ToolUsed):
            args = ", ".join(f"{k}={v!r}" for k, v in e.arguments.items())
            out(f"  tool {e.tool}({args}) {'ok' if e.ok else 'failed'}: {e.summary[:200]}")
        elif isinstance(e, ev.ActionProposed):
            out(f"  PROPOSED [{e.risk}] {e.preview}  (action {e.action_id[:8]}, expires {e.expires_at[:16]})")
            self.proposals.append(Waiting.of(e))
        elif isinstance(e, ev.ActionExecuted):
            label = "EXECUTED" if e.ok else ("REJECTED" if e.status == "rejected" else "FAILED")
            hint = " Use /pending to retry it." if e.retryable else ""
            out(f"  {label}: {e.message}{hint}")
        elif isinstance(e, ev.UsageReported):
            cost = "unknown" if e.cost_usd is None else f"${e.cost_usd:.6f}"
            out(
                f"  usage: {e.provider}/{e.model} in {e.input_tokens} out {e.output_tokens} "
                f"cache write {e.cache_write_tokens} cache read {e.cache_read_tokens} "
                f"{e.latency_ms:.0f} ms cost {cost}"
            )
        elif isinstance(e, ev.ErrorEvent):
            out(f"  error ({e.code}): {e.message}")

    # --- decisions ----------------------------------------------------------------------------
    def decide_all(self) -> None:
        while self.proposals:
            if not self.decide(self.proposals.pop(0)):
                self.proposals.clear()
                return

    def pending(self) -> None:
        self.services.actions.expire_due()
        rows = self.services.store.actions.list(user_id=self.user.user_id, status=("pending", "failed"))
        rows = [r for r in rows if r.status == "pending" or (r.result or {}).get("retryable")]
        if not rows:
            out("  nothing is waiting for you")
        for row in rows:
            out(f"  {row.status.upper()} [{row.risk}] {row.preview}  (action {row.id[:8]})")
        self.proposals.extend(Waiting.of(r) for r in rows)

    def decide(self, w: Waiting) -> bool:
        """Ask about one action; False when input ended (the action stays as it is)."""
        while True:
            answer = ask(f"Retry '{w.preview}'? [y/N] " if w.retry else "Approve? [y/N/e(dit)] ")
            if answer is None:
                return False
            choice = answer.strip().lower()
            if choice in ("y", "yes"):
                confirm: str | None = None
                if w.risk == "destructive":
                    confirm = ask(f"This deletes data. Type {w.confirm_name!r} to confirm: ")
                    if confirm is None:
                        return False
                self.run(
                    self.runner.approve, self.deps, self.user, w.action_id, expected_digest=w.digest,
                    confirm_text=confirm,
                )  # fmt: skip
                return True
            if w.retry:
                out("  (left as it is; /pending shows it)")
                return True
            if choice in ("e", "edit"):
                changes = self.ask_edits(w)
                if changes:
                    before = len(self.proposals)
                    new_args = {**w.arguments, **changes}
                    self.run(self.runner.edit, self.deps, self.user, w.action_id, new_args)
                    if len(self.proposals) > before:
                        w = self.proposals.pop()
                continue
            reason = ask("Reason (optional): ")
            self.run(self.runner.reject, self.deps, self.user, w.action_id, reason or "")
            return True

    def ask_edits(self, w: Waiting) -> dict[str, Any]:
        out("  current arguments: " + json.dumps(w.arguments, ensure_ascii=False))
        changes: dict[str, Any] = {}
        while True:
            line = ask("  field=value (blank line when done): ")
            if not line or not line.strip():
                return changes
            key, sep, raw = line.partition("=")
            if not sep:
                out("  write it as field=value, e.g. difficulty_level=advanced")
                continue
            try:
                changes[key.strip()] = json.loads(raw)
            except ValueError:
                changes[key.strip()] = raw.strip()


# --- setup ----------------------------------------------------------------------------------
def chat_settings(args: argparse.Namespace) -> tuple[Settings, Provider]:
    try:
        settings = Settings()
    except ValidationError as exc:  # e.g. LLM_PROVIDER=claude
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise SetupError(f"invalid settings: {problems}") from exc
    if args.provider:
        settings = settings.model_copy(update={"llm_provider": args.provider})
    name = resolve_provider_name(settings)
    if args.model and name in MODEL_FIELD:
        settings = settings.model_copy(update={MODEL_FIELD[name]: args.model})
    try:
        return settings, build_provider(settings, name, args.model)
    except Exception as exc:  # a missing key, a missing extra: say which
        raise SetupError(f"cannot use the {name} provider: {exc}") from exc


def credentials(args: argparse.Namespace) -> tuple[str, str]:
    email = args.email or os.environ.get("CCA_CHAT_EMAIL") or ask("email: ")
    if not email:
        raise SetupError("no email given (use --email or CCA_CHAT_EMAIL)")
    password = args.password or os.environ.get("CCA_CHAT_PASSWORD")
    if not password:
        password = getpass.getpass("password: ") if sys.stdin.isatty() else ask("password: ")
    if not password:
        raise SetupError("no password given (use --password or CCA_CHAT_PASSWORD)")
    return email.strip(), password


def sign_in(services: Services, email: str, password: str) -> UserContext:
    try:
        return services.sign_in(email, password)
    except PlatformUnavailableError as exc:
        where = "" if services.platform_base_url in exc.detail else f" at {services.platform_base_url}"
        raise SetupError(f"the platform{where} is unreachable: {exc.detail}") from exc
    except PlatformError as exc:
        raise SetupError(f"sign-in as {email} failed: {exc.detail} ({exc.status})") from exc


def chat_log_to_file(settings: Settings) -> Path:
    """Send log records to DATA_DIR/logs/chat.log: a warning printed from a worker thread would land
    in the middle of the streamed answer (a missing price, a Redis fallback)."""
    path = settings.data_dir / "logs" / "chat.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return path


def chat(args: argparse.Namespace) -> int:
    settings, provider = chat_settings(args)
    log_file = chat_log_to_file(settings)
    try:
        services = build_services(settings, provider=provider)
    except Exception as exc:  # the store or the bundled platform could not start
        raise SetupError(f"could not start the assistant: {type(exc).__name__}: {exc}") from exc
    try:
        out(f"Mode: {services.mode_label}")
        out(f"Warnings and errors are logged to {log_file}")
        user = sign_in(services, *credentials(args))
        role = user.role.replace("_", " ")
        out(f"Signed in as {user.full_name or user.email} ({role}) at {services.platform_base_url}")
        ChatSession(services, user).loop()
    finally:
        services.close()
    return 0


def dashboard(args: argparse.Namespace) -> int:
    """Replace this process with the Streamlit server, bound where the settings say."""
    try:
        settings = Settings()
    except ValidationError as exc:
        raise SetupError(f"invalid settings: {exc.errors()[0].get('msg')}") from exc
    streamlit = Path(sys.executable).with_name("streamlit")
    host, port = args.host or settings.dashboard_host, str(args.port or settings.dashboard_port)
    command = [
        str(streamlit),
        "run",
        str(PROJECT_ROOT / "streamlit_app.py"),
        "--server.address",
        host,
        "--server.port",
        port,
    ]
    out(f"Dashboard: http://{host}:{port} (mode: {provider_mode_label(settings)})")
    os.chdir(PROJECT_ROOT)
    os.execv(command[0], command)
    return 0  # not reached


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description="Course Creator AI Assistant")
    commands = parser.add_subparsers(dest="command", required=True)
    v = commands.add_parser(
        "serve", help="the assistant service: WebSocket + HTTP API, widget, demo (ASSISTANT_*)"
    )
    v.add_argument("--host", help="overrides ASSISTANT_HOST")
    v.add_argument("--port", type=int, help="overrides ASSISTANT_PORT")
    v.add_argument("--workers", type=int, help="overrides ASSISTANT_WORKERS")
    d = commands.add_parser(
        "dashboard", help="start the dashboard (Streamlit) on DASHBOARD_HOST:DASHBOARD_PORT"
    )
    d.add_argument("--host", help="overrides DASHBOARD_HOST")
    d.add_argument("--port", type=int, help="overrides DASHBOARD_PORT")
    p = commands.add_parser("chat", help="a plain terminal chat (sign in as a platform user)")
    p.add_argument("--email", help="platform login (or CCA_CHAT_EMAIL, or asked)")
    p.add_argument("--password", help="platform password (or CCA_CHAT_PASSWORD, or asked)")
    p.add_argument("--provider", choices=PROVIDERS, help="overrides LLM_PROVIDER")
    p.add_argument("--model", help="overrides the provider's model setting")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="  [%(levelname)s] %(message)s")
    try:
        if args.command == "serve":
            from app.api.server import serve

            serve(Settings(), args.host, args.port, args.workers)
            return 0
        return dashboard(args) if args.command == "dashboard" else chat(args)
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_SETUP
    except KeyboardInterrupt:
        out()
        return 130


if __name__ == "__main__":
    sys.exit(main())
