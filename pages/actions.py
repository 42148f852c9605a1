"""Actions and audit: every pending and past action, filtered, with its audit trail; your own pending
ones can be decided here too."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.actions.service import ActionError
from app.analytics import actions_report as report
from app.conversation.view import ActionView
from app.permissions.policy import UserContext
from app.store import TurnBusyError
from app.store.models import ACTION_STATUSES
from components.action_card import render_action
from components.report_controls import header
from components.session import load_services, notify, show_notice

svc = load_services()
user: UserContext = st.session_state.user
scope, period = header(
    svc, user, "Actions and audit", "Every change the assistant proposed, and what became of it."
)
svc.actions.expire_due()
show_notice()
deps = svc.turn_deps()

people = report.people_in_scope(svc.store, scope)
tools = svc.store.reports.action_tools(scope.organization_id)
a, b, c = st.columns(3)
with a:
    if st.session_state.get("who", "") not in ("", *people):  # a stale value: back to the default
        del st.session_state["who"]
    who = st.selectbox("User", ["", *people], key="who", bind="query-params",
                       format_func=lambda u: "Everyone" if not u else people.get(u, u))  # fmt: skip
with b:
    if st.session_state.get("tool", "") not in ("", *tools):  # a stale value: back to the default
        del st.session_state["tool"]
    tool = st.selectbox("Tool", ["", *tools], key="tool", bind="query-params",
                        format_func=lambda t: t if t else "Any tool")  # fmt: skip
with c:
    statuses = st.multiselect("Status", list(ACTION_STATUSES), key="status", bind="query-params")

found = report.actions(
    svc.store, scope, period, report.ActionFilter(who or None, tool or None, tuple(statuses))
)
if not found:
    st.info("No actions match. The assistant proposes one when someone asks it to change something in chat.")
    st.stop()


def _decide(start: Any) -> None:
    try:
        start().wait(1.0)
        notify("success", "Done. The outcome is in the conversation and in the audit trail below.")
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


mine = [a for a in found if a.status == "pending" and a.user_id == user.user_id]
if mine:
    st.subheader(f"Waiting for your decision ({len(mine)})")
    now = svc.store.db.clock()
    for action in mine:
        spec = svc.registry.get(action.tool)
        render_action(
            ActionView.of(action),
            spec.input_model if spec else None,
            now,
            approve=approve,
            reject=reject,
            edit=edit,
        )

st.subheader(f"All actions ({len(found)})")
rows = report.action_rows(svc.store, found)
picked = st.dataframe(
    rows, hide_index=True, width="stretch", key="actions-table", on_select="rerun", selection_mode="single-row",
    column_order=["created_at", "status", "tool", "preview", "user", "organization", "decided_at"],
    column_config={"created_at": st.column_config.DatetimeColumn("proposed", format="YYYY-MM-DD HH:mm"),
                   "decided_at": st.column_config.DatetimeColumn("decided", format="YYYY-MM-DD HH:mm")},
)  # fmt: skip
selected = picked.selection.rows if picked else []  # type: ignore[union-attr]
st.caption("Select a row to see its audit trail.")
if selected:
    action = found[selected[0]]
    st.markdown(f"**Audit trail** of *{action.preview}* (`{action.id}`)")
    st.dataframe(report.audit_rows(svc.store.reports.audit_of(action.id)), hide_index=True, width="stretch",
                 column_config={"at": st.column_config.DatetimeColumn("at", format="YYYY-MM-DD HH:mm:ss")})  # fmt: skip
    if action.status == "pending" and action.user_id != user.user_id:
        st.caption("Only the person who asked for it can approve or reject it.")
