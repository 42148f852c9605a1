"""`/demo`: a stakeholder demo in Gradio, mounted on the service. It renders the same turn events as
the dashboard and the widget: the answer as it streams, its citations, the tool steps, and Approve
/ Reject buttons for a proposed action. Gradio's analytics are off and nothing is fetched from the
network (system fonts, no CDN).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr
from fastapi import FastAPI

from app.accounts import demo_accounts
from app.actions.service import ActionError
from app.conversation.runner import LiveTurn
from app.conversation.view import TurnFold
from app.permissions.policy import UserContext
from app.platform.errors import PlatformError
from app.services import Services
from app.store import TurnBusyError

Chat = list[dict[str, Any]]
FONTS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "sans-serif"]
MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "monospace"]


def _messages(folded: TurnFold) -> Chat:
    """A turn as chatbot messages: its steps (collapsed), the answer, its citations and any proposal."""
    view = folded.view
    out: Chat = []
    steps = [f"{'✓' if s.ok else '✗'} {s.title}" for s in view.steps]
    if steps:
        out.append({"role": "assistant", "content": "\n".join(steps),
                    "metadata": {"title": "Steps", "status": "done" if view.stop else "pending"}})  # fmt: skip
    text = view.text + ("" if view.stop else " ▌")
    if text.strip():
        out.append({"role": "assistant", "content": text})
    cited = view.citations
    if cited:
        out.append({"role": "assistant", "content": "\n".join(f"- **{c['cite']}** `{c['path']}:{c['start_line']}-{c['end_line']}`"
                                                              for c in cited),
                    "metadata": {"title": "Sources"}})  # fmt: skip
    for outcome in view.outcomes:
        out.append(
            {"role": "assistant", "content": f"{'✅' if outcome.get('ok') else '⚠️'} {outcome.get('message')}"}
        )
    for error in view.errors:
        if error.get("code") not in ("cancelled",):
            out.append({"role": "assistant", "content": f"⚠️ {error.get('message')}"})
    return out


def _follow(live: LiveTurn, history: Chat, user_line: str | None) -> Iterator[tuple[Chat, Any]]:
    folded = TurnFold(live.turn)
    base = [*history, {"role": "user", "content": user_line}] if user_line else list(history)
    proposal: dict[str, Any] | None = None
    for batch in live.batches():
        for event in batch:
            wire = event.to_dict()
            folded.add(wire)
            if wire["type"] == "action_proposed":
                proposal = wire
        yield [*base, *_messages(folded)], proposal
    yield [*base, *_messages(folded)], proposal


def build_demo(get_services: Any) -> gr.Blocks:
    with gr.Blocks(title="Course Creator AI Assistant · demo", analytics_enabled=False) as demo:
        user_state = gr.State(None)
        conversation = gr.State(None)
        pending = gr.State(None)
        gr.Markdown("# Course Creator AI Assistant\nAsk how the platform works, or ask it to change something. "
                    "It answers from the platform's own code and docs, and nothing changes until you approve.")  # fmt: skip
        with gr.Row(visible=True) as signin_row:
            account = gr.Dropdown(label="Demo user", choices=[], interactive=True, scale=3)
            email = gr.Textbox(label="or email", scale=2)
            password = gr.Textbox(label="password", type="password", scale=2)
            signin = gr.Button("Sign in", variant="primary", scale=1)
        status = gr.Markdown("")
        chatbot = gr.Chatbot(label="Assistant", height=520, visible=False)
        with gr.Row(visible=False) as input_row:
            message = gr.Textbox(
                placeholder="Ask about the platform, or ask for a change", show_label=False, scale=6
            )
            send = gr.Button("Send", variant="primary", scale=1)
        with gr.Group(visible=False) as decision_box:
            preview = gr.Markdown()
            confirm = gr.Textbox(label="Type the name to confirm the deletion", visible=False)
            with gr.Row():
                approve = gr.Button("Approve", variant="primary")
                reject = gr.Button("Reject", variant="stop")

        def load() -> Any:
            svc: Services = get_services()
            choices = [(f"{a.full_name} · {a.role.replace('_', ' ')} · {a.organization}", a.email)
                       for a in demo_accounts()] if svc.embedded_platform else []  # fmt: skip
            return gr.update(
                choices=choices, value=choices[1][1] if len(choices) > 1 else None, visible=bool(choices)
            )

        def do_signin(chosen: str | None, mail: str, secret: str) -> Any:
            svc: Services = get_services()
            who, key = (mail.strip(), secret) if mail.strip() else (chosen or "", "")
            if not key and svc.embedded_platform:
                key = next((a.password for a in demo_accounts() if a.email == who), "")
            if not who:
                nobody = "**Sign-in:** choose a demo user, or type an email and password."
                return None, gr.update(), nobody, gr.update(), gr.update(), gr.update()
            try:
                user = svc.sign_in(who, key)
            except PlatformError as exc:
                return (
                    None,
                    gr.update(),
                    f"**Sign-in failed:** {exc.detail}",
                    gr.update(),
                    gr.update(),
                    gr.update(),
                )
            line = f"Signed in as **{user.full_name}** ({user.role.replace('_', ' ')}) · {svc.mode_label}"
            return (
                user,
                gr.update(visible=False),
                line,
                gr.update(visible=True, value=[]),
                gr.update(visible=True),
                None,
            )

        def do_send(text: str, history: Chat, user: UserContext | None, cid: str | None) -> Iterator[Any]:
            svc: Services = get_services()
            if user is None or not text.strip():
                yield history, cid, None, gr.update(), ""
                return
            if cid is None:
                cid = svc.store.conversations.create(user.user_id, user.organization_id).id
            try:
                live = svc.runner.send(svc.turn_deps(), cid, user, text)
            except TurnBusyError as exc:
                yield [*history, {"role": "assistant", "content": f"⚠️ {exc}"}], cid, None, gr.update(), ""
                return
            proposal = None
            for chat, proposal in _follow(live, history, text):
                yield chat, cid, proposal, _decision(proposal), ""

        def do_decide(
            verb: str, history: Chat, user: UserContext | None, proposal: dict[str, Any] | None, typed: str
        ) -> Iterator[Any]:
            svc: Services = get_services()
            if user is None or proposal is None:
                yield history, None, gr.update(visible=False)
                return
            try:
                if verb == "approve":
                    live = svc.runner.approve(svc.turn_deps(), user, proposal["action_id"], expected_digest=proposal["digest"],
                                              confirm_text=typed or None)  # fmt: skip
                else:
                    live = svc.runner.reject(
                        svc.turn_deps(), user, proposal["action_id"], "rejected in the demo"
                    )
            except (ActionError, TurnBusyError) as exc:
                yield [*history, {"role": "assistant", "content": f"⚠️ {exc}"}], proposal, gr.update()
                return
            for chat, _ in _follow(live, history, None):
                yield chat, None, gr.update(visible=False)

        demo.load(load, outputs=account)
        signin.click(
            do_signin,
            [account, email, password],
            [user_state, signin_row, status, chatbot, input_row, conversation],
        )
        for trigger in (send.click, message.submit):
            trigger(
                do_send,
                [message, chatbot, user_state, conversation],
                [chatbot, conversation, pending, decision_box, message],
            )
        approve.click(
            lambda *a: (yield from do_decide("approve", *a)),
            [chatbot, user_state, pending, confirm],
            [chatbot, pending, decision_box],
        )
        reject.click(
            lambda *a: (yield from do_decide("reject", *a)),
            [chatbot, user_state, pending, confirm],
            [chatbot, pending, decision_box],
        )
        pending.change(lambda p: (f"**Waiting for your approval:** {p['preview']}" if p else "",
                                  gr.update(visible=bool(p and p.get("confirm_name")))),
                       pending, [preview, confirm])  # fmt: skip
    return demo  # type: ignore[no-any-return]  # gradio's context manager is untyped


def _decision(proposal: dict[str, Any] | None) -> Any:
    return gr.update(visible=proposal is not None)


def mount_demo(app: FastAPI, services: Services | None = None) -> None:
    """Mount the demo at /demo; it reaches the services through the app at call time."""
    blocks = build_demo(lambda: services or app.state.assistant.services)
    theme = gr.themes.Soft(font=FONTS, font_mono=MONO)  # system fonts: no font is fetched from the network
    gr.mount_gradio_app(
        app, blocks, path="/demo", footer_links=[], enable_monitoring=False, mcp_server=False, theme=theme
    )
