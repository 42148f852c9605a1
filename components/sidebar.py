"""The sidebar: who is signed in and in which mode the assistant runs; the conversation list."""

from __future__ import annotations

import streamlit as st

from app.permissions.policy import UserContext
from app.services import Services
from app.store.records import ConversationData
from components.panels import role_label
from components.session import sign_out

MODE_ICONS = {"offline": ":material/cloud_off:", "anthropic": ":material/auto_awesome:",
              "openai": ":material/hub:", "local": ":material/memory:"}  # fmt: skip


def render_identity(svc: Services, user: UserContext) -> None:
    with st.sidebar, st.container(border=True, key="identity"):
        st.markdown(f"**{user.full_name or user.email}**")
        st.caption(f"{user.email}  \n{role_label(user.role)} · {st.session_state.get('org_name') or '—'}")
        color = "gray" if svc.provider_name == "offline" else "green"
        st.badge(svc.mode_label, icon=MODE_ICONS.get(svc.provider_name, ":material/psychology:"), color=color)
        st.button(
            "Sign out",
            key="sign-out",
            on_click=sign_out,
            args=(svc,),
            icon=":material/logout:",
            type="tertiary",
        )


def select_conversation(conversation_id: str | None) -> None:
    if conversation_id:
        st.query_params["c"] = conversation_id
    elif "c" in st.query_params:
        del st.query_params["c"]
    st.session_state.selected_turn = None
    st.session_state.selected_cite = None
    st.session_state.window = 30


def new_conversation(svc: Services, user: UserContext) -> str:
    conv = svc.store.conversations.create(
        user.user_id, user.organization_id, provider=svc.provider.name, model=svc.provider.model
    )
    select_conversation(conv.id)
    return conv.id


def render_conversation_list(svc: Services, user: UserContext, current: str | None) -> None:
    with st.sidebar:
        st.button("New conversation", key="new-conversation", icon=":material/add:", type="primary",
                  on_click=select_conversation, args=(None,), width="stretch",
                  help="Starts when you send its first message")  # fmt: skip
        query = st.text_input("Search conversations", key="conversation-search", placeholder="Search by title",
                              label_visibility="collapsed", type="search")  # fmt: skip
        found = svc.store.conversations.list_for_user(user.user_id, title_contains=query or None, limit=50)
        if not found:
            st.caption(
                "No conversation matches." if query else "No conversations yet. Ask something to start one."
            )
        for conv in found:
            _conversation_row(conv, conv.id == current)
        if current:
            _manage(svc, user, current)


def _conversation_row(conv: ConversationData, selected: bool) -> None:
    title = conv.title or "New conversation"
    st.button(
        title if len(title) <= 38 else title[:37] + "…",
        key=f"conv-{conv.id}",
        on_click=select_conversation,
        args=(conv.id,),
        type="secondary" if selected else "tertiary",
        icon=":material/chat:" if selected else ":material/chat_bubble_outline:",
        width="stretch",
        help=f"{title} · updated {conv.updated_at:%Y-%m-%d %H:%M} UTC",
    )


def _manage(svc: Services, user: UserContext, current: str) -> None:
    conv = svc.store.conversations.get(current)
    if conv is None or conv.user_id != user.user_id:
        return
    with st.popover("Rename or delete", icon=":material/more_horiz:", width="stretch"):
        with st.form("rename", border=False):
            title = st.text_input("Title", value=conv.title, max_chars=300, key="rename-title")
            if st.form_submit_button("Rename"):
                svc.store.conversations.set_title(conv.id, " ".join(title.split()) or conv.title)
                st.rerun()
        st.divider()
        st.caption("Deleting removes its messages and pending actions. Usage and the audit log are kept.")
        if st.button("Delete this conversation", key="delete-conversation", icon=":material/delete:"):
            svc.store.conversations.delete(conv.id)
            select_conversation(None)
            st.rerun()
