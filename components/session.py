"""The dashboard's process-wide services and the signed-in user of this browser session.

`st.session_state` only caches: the user comes from the store's web session (its secret in a
cookie), the selected conversation from the URL (`?c=`), everything else from the store. Every
key the dashboard keeps is created in `setup_state`, in one place.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import streamlit as st

from app.accounts import SESSION_COOKIE, close_session, open_session, stored_user
from app.permissions.policy import UserContext
from app.platform.errors import PlatformError, PlatformUnavailableError
from app.services import Services, build_services

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "user": None,  # UserContext of the signed-in user
    "org_name": "",
    "session_secret": "",  # this browser's web session (also in the cookie)
    "cookie_js": "",  # the script that sets or clears the cookie, sent once on the next run
    "selected_turn": None,  # turn id whose context the Context panel shows
    "selected_cite": None,  # a citation the user clicked ("S2")
    "window": 30,  # how many of the latest turns the chat shows
    "editing": None,  # action id whose edit form is open
    "rejecting": None,  # action id whose rejection reason is being typed
    "notice": None,  # (kind, text) shown once at the top of the next run
    "seen_actions": set(),  # proposals already brought to the user's attention (the panel opened once)
}


def setup_state() -> None:
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value.copy() if isinstance(value, set) else value)


#: Every Services this process built (tests close them when they clear Streamlit's caches).
BUILT: list[Services] = []


@st.cache_resource(show_spinner="Starting the assistant: the store, the search index and the platform ...")
def services() -> Services:
    """One Services per process: the store, retrieval, the provider, the turn runner, the sandbox."""
    built = build_services()
    BUILT.append(built)
    if built.retrieval.available():
        try:
            built.retrieval.search(
                "warm up", 1
            )  # load the model and the index now, not on the first question
        except Exception:
            log.warning("could not warm up retrieval", exc_info=True)
    return built


def load_services() -> Services:
    """The services, or a clear message and a stopped page when they cannot start."""
    try:
        return services()
    except Exception as exc:
        st.error(
            f"The assistant could not start: {type(exc).__name__}: {exc}\n\n"
            "Check DATABASE_URL, PLATFORM_BASE_URL and the index settings (see the README), then reload."
        )
        st.stop()
        raise  # unreachable: st.stop() ends the script run


def current_user(svc: Services) -> UserContext | None:
    """The signed-in user: cached in the session, else restored from this browser's cookie."""
    user: UserContext | None = st.session_state.user
    if user is not None:
        return user
    try:
        secret = st.context.cookies.get(SESSION_COOKIE, "")
    except Exception:  # no browser behind this session (AppTest, bare mode)
        secret = ""
    if not isinstance(secret, str):
        secret = ""
    remembered = stored_user(svc.store, secret) if secret else None
    if remembered is None:
        return None
    try:
        fresh = svc.refresh_user(remembered)  # the platform still accepts the token, with this role
    except PlatformError:
        close_session(svc.store, secret)
        _set_cookie("", None)
        return None
    _remember(svc, fresh, secret)
    return fresh


def sign_in(svc: Services, email: str, password: str) -> str | None:
    """Sign in against the platform; None on success, else the message to show."""
    email = email.strip()
    if not email or not password:
        return "Enter your email and password."
    try:
        user = svc.sign_in(email, password)
    except PlatformUnavailableError as exc:
        return f"The platform at {svc.platform_base_url} is unreachable: {exc.detail}"
    except PlatformError as exc:
        if exc.status in (400, 401, 404, 422):
            return "That email and password do not match an account."
        return f"Sign-in failed: {exc.detail}"
    secret, expires = open_session(svc.store, user)
    _remember(svc, user, secret)
    _set_cookie(secret, expires)
    return None


def sign_out(svc: Services) -> None:
    if st.session_state.session_secret:
        close_session(svc.store, st.session_state.session_secret)
    for key, value in DEFAULTS.items():
        st.session_state[key] = value.copy() if isinstance(value, set) else value
    _set_cookie("", None)
    st.query_params.clear()


def _remember(svc: Services, user: UserContext, secret: str) -> None:
    st.session_state.user = user
    st.session_state.session_secret = secret
    st.session_state.org_name = svc.organization_name(user) if user.organization_id else "All organizations"


def _set_cookie(secret: str, expires: datetime | None) -> None:
    """Queue the script that stores (or, with no secret, clears) the session cookie in the browser."""
    if secret and expires is not None:
        stamp = expires.strftime("%a, %d %b %Y %H:%M:%S GMT")
        value = f"{SESSION_COOKIE}={secret}; expires={stamp}; path=/; SameSite=Strict"
    else:
        value = f"{SESSION_COOKIE}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/; SameSite=Strict"
    st.session_state.cookie_js = f"<script>document.cookie = {json.dumps(value)};</script>"


def flush_cookie() -> None:
    """Send a queued cookie change to the browser (runs once, on the next page render)."""
    script = st.session_state.get("cookie_js")
    if script:
        st.html(script, unsafe_allow_javascript=True, width="content")
        st.session_state.cookie_js = ""


def notify(kind: str, text: str) -> None:
    """A message for the top of the next run (after a st.rerun)."""
    st.session_state.notice = (kind, text)


def show_notice() -> None:
    notice = st.session_state.get("notice")
    if notice:
        kind, text = notice
        {"success": st.success, "error": st.error, "warning": st.warning}.get(kind, st.info)(text)
        st.session_state.notice = None
