"""How one turn of a conversation is shown: the user's message (or decision), the steps, the
answer with its citations, what it proposed and what it cost; and a turn still running."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app.conversation.view import ActionView, TurnView
from components.panels import STATUS_ICONS, cited_chunks, turn_usage_line, with_citation_badges

STEP_ICONS = {
    "retrieval": ":material/search:",
    "thinking": ":material/psychology:",
    "tool": ":material/build:",
    "proposed": ":material/edit_note:",
    "executed": ":material/check_circle:",
    "error": ":material/error:",
}
USER_AVATAR = ":material/person:"
DECISION_AVATAR = ":material/gavel:"
ASSISTANT_AVATAR = ":material/smart_toy:"


def select_citation(turn_id: str, cite: str | None) -> None:
    st.session_state.selected_turn = turn_id
    st.session_state.selected_cite = cite
    st.session_state.panel = "Context"


def render_user(turn: TurnView) -> None:
    if turn.kind == "decision":
        with st.chat_message("user", avatar=DECISION_AVATAR):
            verb, _, rest = turn.label.partition(": ")
            st.markdown(f"**{verb}**: {rest}" if rest else turn.label)
    else:
        with st.chat_message("user", avatar=USER_AVATAR):
            st.markdown(turn.label)


def render_steps(turn: TurnView, *, expanded: bool = False) -> None:
    visible = [s for s in turn.steps if s.kind != "thinking" or s.title != "Thinking (step 1)"]
    if not visible:
        return
    label = f"{len(visible)} step{'s' if len(visible) != 1 else ''}"
    with st.expander(label, expanded=expanded, icon=":material/checklist:"):
        for step in visible:
            mark = "" if step.ok else " — failed"
            line = f"{STEP_ICONS.get(step.kind, '•')} {step.title}{mark}"
            st.markdown(line)
            if step.detail and step.kind in ("tool", "retrieval"):
                st.caption(step.detail[:300])


def render_citations(turn: TurnView, key: str) -> None:
    chunks = cited_chunks(turn)
    if not chunks:
        return
    with st.container(horizontal=True, gap="small"):
        for chunk in chunks[:8]:
            where = f"{chunk.get('path')}:{chunk.get('start_line')}-{chunk.get('end_line')}"
            st.button(
                f"{chunk['cite']} · {where}",
                key=f"{key}-cite-{chunk['cite']}",
                on_click=select_citation,
                args=(turn.id, chunk["cite"]),
                help="Open these lines in the Context panel",
                type="tertiary",
                icon=":material/description:",
            )


def render_action_notes(turn: TurnView, actions: dict[str, ActionView]) -> None:
    for action_id in turn.proposed:
        action = actions.get(action_id)
        if action is None:
            continue
        icon = STATUS_ICONS.get(action.status, "•")
        if action.waiting:
            st.info(
                f"**Waiting for your approval:** {action.preview}. Decide in *Pending actions*.", icon=icon
            )
        else:
            st.caption(f"{icon} {action.preview}: {action.status}")


def render_outcomes(turn: TurnView) -> None:
    for outcome in turn.outcomes:
        if outcome.get("ok"):
            st.success(str(outcome.get("message") or "Done."), icon=":material/check_circle:")
        elif outcome.get("status") == "rejected":
            st.warning(str(outcome.get("message") or "Rejected."), icon=":material/block:")
        else:
            retry = " It can be retried from Pending actions." if outcome.get("retryable") else ""
            st.error(f"{outcome.get('message') or 'It failed.'}{retry}", icon=":material/error:")


def render_errors(turn: TurnView) -> None:
    for error in turn.errors:
        code = error.get("code")
        if code in ("cancelled", "interrupted"):
            continue
        st.error(str(error.get("message") or "Something went wrong."), icon=":material/error:")
    if turn.stop == "cancelled":
        st.caption(":material/stop_circle: Stopped. What was written so far is kept; nothing more was done.")
    elif turn.stop == "interrupted":
        st.caption(
            ":material/stop_circle: Interrupted: the assistant stopped before finishing (its process ended). What it wrote is kept."
        )


def render_answer(turn: TurnView, actions: dict[str, ActionView], on_feedback: Callable[[TurnView, int | None], None] | None,
                  feedback: int | None = None) -> None:  # fmt: skip
    """The assistant's side of a finished turn."""
    with st.chat_message("assistant", avatar=ASSISTANT_AVATAR):
        render_steps(turn)
        render_outcomes(turn)
        if turn.text:
            known = [c["cite"] for c in turn.chunks if c.get("cite")]
            st.markdown(with_citation_badges(turn.text, known))
        render_citations(turn, key=turn.id)
        render_action_notes(turn, actions)
        render_errors(turn)
        line = turn_usage_line(turn.usage)
        if line or (on_feedback and turn.answer_seq):
            left, right = st.columns([0.8, 0.2], vertical_alignment="center")
            left.caption(line)
            if on_feedback and turn.answer_seq:
                with right:
                    _feedback(turn, on_feedback, feedback)


def _feedback(
    turn: TurnView, on_feedback: Callable[[TurnView, int | None], None], current: int | None
) -> None:
    key = f"feedback-{turn.id}"
    if key not in st.session_state and current is not None:
        st.session_state[key] = 1 if current > 0 else 0
    st.feedback("thumbs", key=key, on_change=lambda: on_feedback(turn, st.session_state.get(key)))


def render_running(turn: TurnView, on_stop: Callable[[], None]) -> None:
    """A running turn as far as it got: its steps so far, the text streamed so far, and Stop."""
    with st.chat_message("assistant", avatar=ASSISTANT_AVATAR):
        with st.status(_status_label(turn), expanded=False):
            for step in turn.steps:
                st.markdown(f"{STEP_ICONS.get(step.kind, '•')} {step.title}")
        if turn.text:
            st.markdown(turn.text + " ▌")
        st.button("Stop", key=f"stop-{turn.id}", on_click=on_stop, icon=":material/stop_circle:")


def _status_label(view: TurnView) -> str:
    if view.stop:
        return {"completed": "Done", "cancelled": "Stopped"}.get(view.status, "Ended with an error")
    last = view.steps[-1] if view.steps else None
    if last is None:
        return "Starting ..."
    return {"retrieval": "Searching the code and docs ...", "thinking": "Thinking ...",
            "tool": f"{last.title} ...", "proposed": "Preparing a change for your approval ...",
            "executed": "Carrying out the approved action ..."}.get(last.kind, "Working ...")  # fmt: skip
