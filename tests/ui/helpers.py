"""Driving the dashboard in AppTest: sign in, say something, find what it shows."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from app.services import Services
from components import session

ADMIN = "maya.patel@northwind-academy.example"
SITE_ADMIN = "site.admin@coursecreator.example"
INSTRUCTOR = "daniel.kim@northwind-academy.example"
STUDENT = "aisha.rahman@northwind-academy.example"
OTHER_ADMIN = "grace.okafor@brightpath.example"


def sign_in(app: Callable[[], AppTest], email: str) -> AppTest:
    at = app().run()
    assert not at.exception, at.exception
    at.button(key=f"demo-{email}").click().run()
    assert not at.exception, at.exception
    return at


def settle(at: AppTest) -> AppTest:
    """Let the turn the last run started finish in its thread, then render the page again.

    In a browser a fragment polls the running turn; AppTest runs no fragment reruns, so tests
    wait for the turn and rerun the page themselves.
    """
    assert services().runner.wait_idle(60), "a turn did not finish within 60 s"
    at.run()
    assert not at.exception, at.exception
    return at


def say(at: AppTest, text: str) -> AppTest:
    at.chat_input(key="prompt").set_value(text).run()
    assert not at.exception, at.exception
    return settle(at)


def click(at: AppTest, key: str) -> AppTest:
    """Click a button that may start a turn (a decision), and wait for that turn."""
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return settle(at)


def services() -> Services:
    """The Services the dashboard built in this test (one per process, cached)."""
    assert session.BUILT, "the dashboard has not started its services yet"
    return session.BUILT[-1]


def texts(at: AppTest) -> str:
    """Everything the page wrote as markdown, captions, alerts and chat, in one string to search."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in (*at.info, *at.success, *at.warning, *at.error)]
    return "\n".join(str(p) for p in parts)


def button_keys(at: AppTest, prefix: str) -> list[str]:
    return [b.key for b in at.button if b.key and b.key.startswith(prefix)]


def conversation_id(at: AppTest) -> str:
    """The conversation the page shows (the `c` query parameter)."""
    value = at.query_params["c"]
    return value if isinstance(value, str) else str(value[0])
