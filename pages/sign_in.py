"""Sign in: email and password against the platform; on the embedded sandbox, one-click demo users."""

from __future__ import annotations

import streamlit as st

from app.accounts import DemoAccount, demo_accounts
from components.panels import role_label
from components.session import load_services, show_notice, sign_in

svc = load_services()


def _sign_in(email: str, password: str) -> None:
    problem = sign_in(svc, email, password)
    st.session_state.sign_in_error = problem


st.title(":material/school: Course Creator Assistant")
st.markdown(
    "Ask how the platform works and get answers from its own code and docs, with citations. "
    "Ask for a change and the assistant prepares it, shows you exactly what it will do, and carries it "
    "out only when you approve."
)
st.caption(f"Platform: `{svc.platform_base_url}` · Assistant: {svc.mode_label}")
show_notice()

form_col, demo_col = st.columns([0.45, 0.55], gap="large")
with form_col, st.container(border=True):
    st.subheader("Sign in")
    with st.form("sign-in", border=False):
        st.text_input("Email", key="email", type="email", autocomplete="username")
        st.text_input("Password", key="password", type="password", autocomplete="current-password")
        st.form_submit_button(
            "Sign in",
            type="primary",
            width="stretch",
            on_click=lambda: _sign_in(
                st.session_state.get("email", ""), st.session_state.get("password", "")
            ),
        )
    error = st.session_state.get("sign_in_error")
    if error:
        st.error(error)
    st.caption("Use your Course Creator Platform account. The assistant acts with your own permissions.")

if svc.embedded_platform:
    with demo_col:
        st.subheader("Demo accounts")
        st.caption(
            "The bundled sandbox platform is running with its demo organizations. Pick anyone to see what "
            "the assistant offers each role."
        )
        accounts = demo_accounts()
        by_org: dict[str, list[DemoAccount]] = {}
        for account in accounts:
            by_org.setdefault(account.organization, []).append(account)
        for org, members in by_org.items():
            with st.container(border=True):
                st.markdown(f"**{org if org != '(platform)' else 'Platform'}**")
                for account in members:
                    st.button(
                        f"{account.full_name} · {role_label(account.role)}",
                        key=f"demo-{account.email}",
                        on_click=_sign_in,
                        args=(account.email, account.password),
                        icon=":material/login:",
                        width="stretch",
                        help=account.email,
                    )
