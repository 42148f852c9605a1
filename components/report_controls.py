"""The controls every operator page shares: whose data (organization) and which days.

Both live in the URL (`?org=...&days=30`), so a link reproduces the view and a rerun keeps it.
"""

from __future__ import annotations

import streamlit as st

from app.analytics.scope import Period, Scope, can_see_reports, scope_for
from app.permissions.policy import UserContext
from app.services import Services

ALL = "all"
PERIODS = {"7": "Last 7 days", "30": "Last 30 days", "90": "Last 90 days", "365": "Last 12 months"}


def require_admin(user: UserContext) -> None:
    if not can_see_reports(user):
        st.warning("This page is for administrators. Ask an organization admin for what it shows.")
        st.stop()


def organizations(svc: Services, user: UserContext) -> dict[str, str]:
    """Organization id -> name: the platform's list for a site admin, plus any the directory knows."""
    known = dict(svc.store.directory.organizations())
    cached = st.session_state.get("platform_orgs")
    if cached is None:
        cached = {}
        try:
            with svc.platform(user.token) as client:
                cached = {
                    str(o["id"]): str(o.get("name") or o["id"]) for o in client.list_all("/organizations")
                }
        except Exception:  # the platform is down or refuses: the directory still names some
            cached = {}
        st.session_state.platform_orgs = cached
    known.update(cached)
    return dict(sorted(known.items(), key=lambda item: item[1].lower()))


def scope_picker(svc: Services, user: UserContext) -> Scope:
    """A site admin picks an organization or all of them; anyone else gets their own."""
    if user.role != "site_admin":
        st.caption(f"Organization: **{st.session_state.get('org_name') or user.organization_id}**")
        return scope_for(user)
    names = organizations(svc, user)
    options = [ALL, *names]
    if st.session_state.get("org", ALL) not in options:  # a stale value: back to the default
        del st.session_state["org"]
    chosen = st.selectbox(
        "Organization", options, key="org", bind="query-params",
        format_func=lambda o: "All organizations" if o == ALL else names.get(o, o),
    )  # fmt: skip
    return scope_for(user, None if chosen == ALL else chosen)


def period_picker() -> Period:
    if st.session_state.get("days", "30") not in PERIODS:  # a stale value: back to the default
        del st.session_state["days"]
    days = st.selectbox(
        "Period", list(PERIODS), index=1, key="days", bind="query-params", format_func=PERIODS.__getitem__
    )
    return Period.last_days(int(days))


def header(svc: Services, user: UserContext, title: str, caption: str) -> tuple[Scope, Period]:
    """The page title, then the organization and period pickers side by side."""
    require_admin(user)
    st.title(title)
    st.caption(caption)
    left, right, _ = st.columns([0.3, 0.2, 0.5])
    with left:
        scope = scope_picker(svc, user)
    with right:
        period = period_picker()
    return scope, period
