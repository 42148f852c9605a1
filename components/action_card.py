"""A pending action as the user decides on it: the preview, what will change (before and after),
the arguments, and Approve / Edit / Reject (a deletion asks for the name typed back)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st
from pydantic import BaseModel

from app.conversation.view import ActionView
from components.forms import FormField, form_fields, from_arguments, to_arguments
from components.panels import STATUS_ICONS, argument_rows, change_lines, expires_in

Approve = Callable[[ActionView, str | None], None]
Reject = Callable[[ActionView, str], None]
Edit = Callable[[ActionView, dict[str, Any]], None]


def _toggle(key: str, action_id: str) -> None:
    st.session_state[key] = None if st.session_state.get(key) == action_id else action_id


def render_action(action: ActionView, model: type[BaseModel] | None, now: datetime, *,
                  approve: Approve, reject: Reject, edit: Edit, busy: bool = False) -> None:  # fmt: skip
    """One waiting (or retryable) action with its decision controls."""
    with st.container(border=True, key=f"action-{action.id}"):
        risk = "Deletes data" if action.risk == "destructive" else "Changes data"
        st.markdown(f"{STATUS_ICONS.get(action.status, '•')} **{action.preview}**")
        st.caption(
            f":{'red' if action.risk == 'destructive' else 'orange'}-badge[{risk}] `{action.tool}` · "
            + (expires_in(action, now) if action.waiting else f"failed: {action.error or 'unknown error'}")
        )
        if action.changes:
            lines = ["**What will change**"]
            for target, fields in change_lines(action.changes):
                lines.append(f"- {target}")
                lines.extend(f"    - {line}" for line in fields)
            st.markdown("\n".join(lines))
        with st.expander("Arguments"):
            st.dataframe(pd.DataFrame(argument_rows(action.arguments)), hide_index=True, width="stretch")
        if busy:
            st.caption("The assistant is still working on this conversation; decide once it is done.")
            return
        if action.retryable:
            st.button("Retry", key=f"retry-{action.id}", type="primary", icon=":material/replay:",
                      on_click=approve, args=(action, None), help="Safe: the platform will not apply it twice.")  # fmt: skip
            return
        confirm: str | None = None
        if action.risk == "destructive":
            confirm = st.text_input(
                f"Type **{action.confirm_name}** to confirm the deletion",
                key=f"confirm-{action.id}",
                placeholder=action.confirm_name or "",
            )
        cols = st.columns(3)
        cols[0].button(
            "Approve", key=f"approve-{action.id}", type="primary", icon=":material/check:",
            disabled=action.risk == "destructive" and (confirm or "").strip() != (action.confirm_name or ""),
            on_click=approve, args=(action, confirm),
        )  # fmt: skip
        cols[1].button("Edit", key=f"edit-{action.id}", icon=":material/edit:", on_click=_toggle,
                       args=("editing", action.id), disabled=model is None)  # fmt: skip
        cols[2].button("Reject", key=f"reject-{action.id}", icon=":material/close:", on_click=_toggle,
                       args=("rejecting", action.id))  # fmt: skip
        if st.session_state.get("rejecting") == action.id:
            with st.form(f"reject-form-{action.id}", border=False):
                st.text_input("Why? (optional, the assistant is told)", key=f"reason-{action.id}")
                st.form_submit_button("Reject this action", on_click=_reject, args=(action, reject))
        if st.session_state.get("editing") == action.id and model is not None:
            _edit_form(action, model, edit)


def _reject(action: ActionView, reject: Reject) -> None:
    st.session_state.rejecting = None
    reject(action, str(st.session_state.get(f"reason-{action.id}") or ""))


def _save(action: ActionView, fields: list[FormField], edit: Edit) -> None:
    """The edit form's submit callback: its values, read from the widgets' keys, as arguments."""
    st.session_state.editing = None
    raw = {f.name: st.session_state.get(_key(action.id, f.name)) for f in fields}
    edit(action, to_arguments(fields, raw))


def _key(action_id: str, field: str) -> str:
    return f"edit-{action_id}-{field}"


def _edit_form(action: ActionView, model: type[BaseModel], edit: Edit) -> None:
    fields = form_fields(model)
    start = from_arguments(fields, action.arguments)
    with st.form(f"edit-form-{action.id}"):
        st.caption("Change what you need; the action is checked again and a new preview is shown.")
        for f in fields:
            _widget(f, start.get(f.name), action.id)
        st.form_submit_button("Save changes", type="primary", on_click=_save, args=(action, fields, edit))


def _widget(f: FormField, value: Any, action_id: str) -> Any:
    key = _key(action_id, f.name)
    label = f.label + ("" if f.required else " (optional)")
    if f.name.endswith(("_id", "_ids")):  # ids come from lookups: ask the assistant to change them
        return st.text_input(
            label, value=str(value or ""), key=key, disabled=True, help="Ask the assistant to change this."
        )
    if f.kind == "choice":
        options = list(f.options)
        return st.selectbox(
            label, options, index=options.index(value) if value in options else 0, key=key, help=f.help
        )
    if f.kind == "flag":
        return st.checkbox(label, value=bool(value), key=key, help=f.help)
    if f.kind in ("integer", "number"):
        step: Any = 1 if f.kind == "integer" else 0.5
        cast: Any = int if f.kind == "integer" else float
        low = cast(f.minimum) if f.minimum is not None else None
        high = cast(f.maximum) if f.maximum is not None else None
        return st.number_input(label, min_value=low, max_value=high, value=cast(value) if value is not None else None,
                               step=step, key=key, help=f.help)  # fmt: skip
    if f.kind == "date":
        return st.date_input(label, value=value, key=key, help=f.help)
    if f.kind == "list":
        return st.text_area(label + " — one per line", value=value or "", key=key, help=f.help, height=90)
    if f.kind == "long_text":
        return st.text_area(label, value=value or "", key=key, help=f.help, height=100)
    return st.text_input(label, value=value or "", key=key, help=f.help)


def render_decided(actions: list[ActionView]) -> None:
    """Recently decided actions of the conversation, newest first."""
    if not actions:
        return
    st.markdown("**Decided**")
    for action in actions:
        st.caption(
            f"{STATUS_ICONS.get(action.status, '•')} {action.preview} — {action.status}. {action.outcome}"
        )
