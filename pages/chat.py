"""Chat: the conversation with its live steps and Stop button, and beside it the retrieved context,
the actions waiting for approval, and what each turn cost."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.actions.service import ActionError
from app.conversation.runner import running_view
from app.conversation.view import ActionView, TurnView, conversation_view
from app.permissions.policy import UserContext
from app.store import TurnBusyError
from app.store.records import FINAL_STATUSES
from components.action_card import render_action, render_decided
from components.context_panel import render_context
from components.session import load_services, notify, show_notice
from components.sidebar import new_conversation, render_conversation_list, select_conversation
from components.turns import render_answer, render_running, render_user
from components.usage_panel import render_usage

svc = load_services()
user: UserContext = st.session_state.user
deps = svc.turn_deps()
svc.actions.expire_due()

PANELS = ["Context", "Pending actions", "This conversation"]
PANEL_HEIGHT = 620  # the conversation scrolls in its own box, newest at the bottom
LIVE_REFRESH_S = 0.25  # how often a running turn is redrawn
QUICK_TURN_S = 0.6  # a turn done this fast (the offline planner) is drawn finished, without polling
EXAMPLES = {
    "admin": [
        "What roles can an instructor have on a course?",
        "Create an intermediate Python track in Data Science Foundations",
        "How do I enroll students in a track?",
        "List the projects",
    ],
    "instructor": [
        "What can an instructor do on a course?",
        "How is a course published?",
        "List the tracks",
    ],
    "student": [
        "How do I enroll in a course?",
        "What can a student see?",
    ],
}


# --- the conversation in the URL ---------------------------------------------------------------
def _current() -> str | None:
    wanted = st.query_params.get("c")
    if not wanted:
        return None
    conv = svc.store.conversations.get(wanted)
    if conv is None or conv.user_id != user.user_id:
        select_conversation(None)
        return None
    return wanted


def _send(conversation_id: str | None, text: str) -> bool:
    """Start a turn for the user's message; True while it is still running after a short wait."""
    text = text.strip()
    if not text:
        return False
    conversation_id = conversation_id or new_conversation(svc, user)
    st.session_state.selected_turn = None
    st.session_state.selected_cite = None
    try:
        return not svc.runner.send(deps, conversation_id, user, text).wait(QUICK_TURN_S)
    except TurnBusyError:
        notify(
            "warning", "The assistant is still answering your previous message. Wait for it, or press Stop."
        )
    except LookupError as exc:
        notify("error", str(exc))
    return False


def _queue(text: str) -> None:
    st.session_state.queued_prompt = text


# --- decisions (button callbacks: they start a decision turn, which the page then follows) ------
def _decide(start: Any) -> None:
    try:
        start().wait(QUICK_TURN_S)
    except (ActionError, TurnBusyError, LookupError) as exc:
        notify("error", str(exc))


def approve(action: ActionView, confirm: str | None) -> None:
    _decide(
        lambda: svc.runner.approve(deps, user, action.id, expected_digest=action.digest, confirm_text=confirm)
    )


def reject(action: ActionView, reason: str) -> None:
    _decide(lambda: svc.runner.reject(deps, user, action.id, reason))


def edit(action: ActionView, arguments: dict[str, Any]) -> None:
    _decide(lambda: svc.runner.edit(deps, user, action.id, arguments))


def feedback(turn: TurnView, value: int | None) -> None:
    if value is not None and turn.answer_seq:
        svc.store.feedback.add(turn.conversation_id, turn.answer_seq, user.user_id, 1 if value else -1)


def stop(turn_id: str) -> None:
    svc.runner.cancel(turn_id)


# --- the page ----------------------------------------------------------------------------------
conversation_id = _current()
render_conversation_list(svc, user, conversation_id)
busy = conversation_id is not None and svc.store.turns.running(conversation_id) is not None
prompt = st.chat_input(
    "Ask about the platform, or ask for a change ..." if not busy else "The assistant is working ...",
    key="prompt",
    max_chars=8000,
    disabled=busy,
)
queued = st.session_state.pop("queued_prompt", None)
if (prompt or queued) and _send(conversation_id, prompt or queued):
    st.rerun()  # draw the page with the turn running (the input disabled until it ends)
conversation_id = _current()
show_notice()

if conversation_id is None:
    st.title("What can I help you with?")
    st.markdown(
        "I answer from the Course Creator Platform's own code and documentation, citing the lines I used, "
        "and I can make changes on the platform with your permissions. Nothing changes until you approve it."
    )
    if svc.provider_name == "offline":
        st.caption(
            "Offline mode: no LLM is configured, so answers are the best passages with citations and requests "
            "go through a rule-based planner. Set ANTHROPIC_API_KEY for written answers."
        )
    group = "admin" if user.role in ("site_admin", "organization_admin") else user.role
    st.markdown("**Try one of these**")
    for example in EXAMPLES.get(group, EXAMPLES["student"]):
        st.button(
            example,
            key=f"example-{example}",
            on_click=_queue,
            args=(example,),
            icon=":material/arrow_forward:",
        )
    if not svc.retrieval.available():
        st.warning(
            "There is no search index yet, so answers cannot cite the code. Build it with `make index`."
        )
    st.stop()

view = conversation_view(svc.store, conversation_id, last=st.session_state.window)
assert view is not None
votes = {
    f.message_seq: f.rating
    for f in svc.store.feedback.list(conversation_id=conversation_id, user_id=user.user_id)
}
running = view.running

chat_col, panel_col = st.columns([0.58, 0.42], gap="large")
chat_col.subheader(view.conversation.title or "New conversation")
chat_box = chat_col.container(height=PANEL_HEIGHT, border=False, autoscroll=True, key="chat-box")
with chat_box:
    if view.total_turns > len(view.turns):
        st.button(
            f"Show earlier turns ({view.total_turns - len(view.turns)} more)",
            key="earlier",
            on_click=lambda: st.session_state.update(window=st.session_state.window + 30),
            type="tertiary",
            icon=":material/expand_less:",
        )
    if not view.turns:
        st.caption("Ask something below to start.")
    for turn in view.turns:
        if turn.running:
            continue
        render_user(turn)
        render_answer(turn, view.actions, feedback, votes.get(turn.answer_seq or -1))
    live_slot = st.container()

with panel_col:
    panel_box = st.container()
with panel_box:
    waiting = view.waiting
    retryable = [a for a in view.actions.values() if a.retryable]
    decided = sorted((a for a in view.actions.values() if a.status in FINAL_STATUSES or a.status == "failed"),
                     key=lambda a: a.decided_at or a.created_at, reverse=True)  # fmt: skip
    unseen = {a.id for a in waiting} - st.session_state.seen_actions
    st.session_state.seen_actions |= unseen
    if unseen or st.session_state.get("panel") not in PANELS:
        st.session_state.panel = PANELS[1] if waiting else PANELS[0]  # a new proposal: show it
    context_tab, actions_tab, usage_tab = st.tabs(PANELS, key="panel", on_change="rerun")
    if context_tab.open:
        render_context(view.turns)
    if actions_tab.open:
        if waiting:
            st.caption(f"{len(waiting)} waiting for your decision")
        if not waiting and not retryable:
            st.info(
                "Nothing is waiting for your approval. When the assistant proposes a change, it appears here first."
            )
        now = svc.store.db.clock()
        for action in waiting + retryable:
            tool = svc.registry.get(action.tool)
            render_action(action, tool.input_model if tool else None, now, approve=approve, reject=reject,
                          edit=edit, busy=running is not None)  # fmt: skip
        render_decided(decided[:10])
    if usage_tab.open:
        render_usage(view.turns, svc.mode_label)


@st.fragment(run_every=LIVE_REFRESH_S)
def live_turn(conversation_id: str, turn_id: str) -> None:
    """The running turn, redrawn from its events every LIVE_REFRESH_S; a full rerun when it ends.

    A fragment, not a loop in the script: the script run ends at once (no half-replaced page),
    and a rerun, a reload or another tab never stops the turn, which runs in the runner's thread.
    """
    view = running_view(svc.runner, conversation_id, turn_id)
    if view is None or (view.query is not None and st.session_state.get("drawn_without_context") == turn_id):
        st.rerun(scope="app")  # it ended, or its context arrived: redraw the panels too
        return
    render_user(view)
    render_running(view, lambda: stop(turn_id))


if running is not None:
    st.session_state.drawn_without_context = running.id if running.query is None else None
    with live_slot:
        live_turn(conversation_id, running.id)
