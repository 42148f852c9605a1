"""The sign-in and chat pages in AppTest, on the embedded defaults (offline provider, in-process sandbox)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.accounts import demo_accounts
from app.conversation.view import conversation_view
from components.panels import role_label

from .helpers import (
    ADMIN,
    INSTRUCTOR,
    STUDENT,
    button_keys,
    click,
    conversation_id,
    say,
    services,
    sign_in,
    texts,
)

DESIGN_NOTE = "Create an intermediate Python track in Data Science Foundations"
ACCOUNTS = demo_accounts()


def test_the_sign_in_page_offers_every_demo_user(dashboard: Path, app: Callable[[], AppTest]) -> None:
    at = app().run()
    assert not at.exception
    keys = button_keys(at, "demo-")
    assert sorted(keys) == sorted(f"demo-{a.email}" for a in ACCOUNTS)
    assert len({(a.role, a.organization) for a in ACCOUNTS}) == 7  # every role in both organizations
    assert "Offline" in texts(at)  # the mode is visible before signing in too


def test_a_wrong_password_is_a_message_not_a_trace(dashboard: Path, app: Callable[[], AppTest]) -> None:
    at = app().run()
    at.text_input(key="email").input(ADMIN)
    at.text_input(key="password").input("not the password")
    at.button(key="FormSubmitter:sign-in-Sign in").click().run()
    assert not at.exception
    assert "do not match" in at.error[0].value
    assert at.session_state.user is None


def test_signing_in_with_email_and_password(dashboard: Path, app: Callable[[], AppTest]) -> None:
    at = app().run()
    at.text_input(key="email").input(ADMIN)
    at.text_input(key="password").input("OrgAdmin#2024")
    at.button(key="FormSubmitter:sign-in-Sign in").click().run()
    assert not at.exception
    assert at.session_state.user.email == ADMIN
    assert "What can I help you with?" in at.title[0].value


@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda a: f"{a.role}-{a.organization.split()[0]}")
def test_every_role_gets_the_chat(dashboard: Path, app: Callable[[], AppTest], account: object) -> None:
    from app.accounts import DemoAccount

    assert isinstance(account, DemoAccount)
    at = sign_in(app, account.email)
    shown = texts(at)
    assert account.full_name in shown and role_label(account.role) in shown  # who is signed in
    if account.role != "site_admin":
        assert account.organization in shown
    assert "Offline: retrieval + planner" in shown  # the assistant's mode
    assert "What can I help you with?" in at.title[0].value
    assert button_keys(at, "example-")  # something to try, suited to the role


def test_a_question_is_answered_with_citations_that_open_the_cited_lines(
    dashboard: Path, app: Callable[[], AppTest]
) -> None:
    at = say(sign_in(app, ADMIN), "What roles can an instructor have on a course?")
    shown = texts(at)
    assert "offline mode" in shown
    cites = button_keys(at, "")
    cite_keys = [k for k in cites if "-cite-S" in k]
    assert cite_keys, "the answer's citations are buttons"
    at.button(key=cite_keys[0]).click().run()
    assert not at.exception
    assert at.session_state.panel == "Context"
    cite = cite_keys[0].rsplit("-", 1)[1]
    view = conversation_view(services().store, conversation_id(at))
    assert view is not None
    chunk = next(c for c in view.turns[-1].chunks if c.get("cite") == cite)
    shown_code = [c.value for c in at.code]
    first_line = f"{chunk['start_line']} │"
    assert any(code.lstrip().startswith(first_line) for code in shown_code), (
        "numbered from the file's own line"
    )
    assert any(f"{chunk['path']}:{chunk['start_line']}-{chunk['end_line']}" in m.value for m in at.markdown)


def test_the_design_note_example_through_approval(dashboard: Path, app: Callable[[], AppTest]) -> None:
    at = say(sign_in(app, ADMIN), DESIGN_NOTE)
    assert at.session_state.panel == "Pending actions"
    svc = services()
    (action,) = svc.actions.waiting(user_id=at.session_state.user.user_id)
    assert action.preview == "Create track 'Python' (intermediate) in project Data Science Foundations" or (
        "(intermediate) in project Data Science Foundations" in action.preview
    )
    shown = texts(at)
    assert "Waiting for your approval" in shown and action.preview in shown
    changes = next(m.value for m in at.markdown if m.value.startswith("**What will change**"))
    assert "new track in project Data Science Foundations" in changes
    assert (
        "difficulty level: **intermediate**" in changes and "tracks: 3 → **4**" in changes
    )  # the seeded project has three

    click(at, f"approve-{action.id}")
    done = svc.store.actions.require(action.id)
    assert done.status == "succeeded"
    user = at.session_state.user
    with svc.platform(user.token) as client:
        projects = client.list_all(f"/organizations/{user.organization_id}/projects")
        dsf = next(p["id"] for p in projects if p["name"] == "Data Science Foundations")
        name = action.arguments["name"]
        tracks = [t for t in client.list_all("/tracks/", project_id=dsf) if t["name"] == name]
    assert len(tracks) == 1 and tracks[0]["difficulty_level"] == "intermediate"
    shown = texts(at)
    assert f"**Approved**: {action.preview}" in shown  # the decision is part of the conversation
    assert any("Created track" in s.value for s in at.success)


def test_an_edit_is_revalidated_and_shown_as_a_new_preview(
    dashboard: Path, app: Callable[[], AppTest]
) -> None:
    at = say(sign_in(app, ADMIN), DESIGN_NOTE)
    svc = services()
    (action,) = svc.actions.waiting(user_id=at.session_state.user.user_id)
    at.button(key=f"edit-{action.id}").click().run()
    at.selectbox(key=f"edit-{action.id}-difficulty_level").select("advanced")
    at.text_input(key=f"edit-{action.id}-name").input("Python for Analysts")
    click(at, f"FormSubmitter:edit-form-{action.id}-Save changes")
    edited = svc.store.actions.require(action.id)
    assert edited.status == "pending" and edited.arguments["difficulty_level"] == "advanced"
    assert edited.digest != action.digest and "Python for Analysts" in edited.preview
    assert f"**Edited**: {action.preview}" in texts(at)

    at.button(key=f"edit-{action.id}").click().run()  # an invalid edit is refused, visibly
    at.text_input(key=f"edit-{action.id}-name").input("")
    click(at, f"FormSubmitter:edit-form-{action.id}-Save changes")
    assert svc.store.actions.require(action.id).preview == edited.preview
    assert any("not valid" in e.value for e in at.error)


def test_a_rejected_deletion_deletes_nothing(dashboard: Path, app: Callable[[], AppTest]) -> None:
    at = say(sign_in(app, ADMIN), "Delete the Cloud Engineering Pathway project")
    svc = services()
    user = at.session_state.user
    (action,) = svc.actions.waiting(user_id=user.user_id)
    assert action.risk == "destructive"
    assert at.button(key=f"approve-{action.id}").disabled  # until the name is typed back
    at.text_input(key=f"confirm-{action.id}").input("Cloud Engineering").run()
    assert at.button(key=f"approve-{action.id}").disabled
    at.button(key=f"reject-{action.id}").click().run()
    at.text_input(key=f"reason-{action.id}").input("keep it for next term")
    click(at, f"FormSubmitter:reject-form-{action.id}-Reject this action")
    assert svc.store.actions.require(action.id).status == "rejected"
    with svc.platform(user.token) as client:
        names = [p["name"] for p in client.list_all(f"/organizations/{user.organization_id}/projects")]
    assert "Cloud Engineering Pathway" in names
    assert "keep it for next term" in texts(at)


def test_a_student_is_refused_a_deletion_and_offered_no_approval(
    dashboard: Path, app: Callable[[], AppTest]
) -> None:
    at = say(sign_in(app, STUDENT), "Delete the Data Science Foundations project")
    svc = services()
    assert svc.actions.waiting(user_id=at.session_state.user.user_id) == []
    assert not button_keys(at, "approve-")


def test_conversations_can_be_renamed_searched_and_deleted(
    dashboard: Path, app: Callable[[], AppTest]
) -> None:
    at = say(sign_in(app, INSTRUCTOR), "List the tracks")
    svc = services()
    user = at.session_state.user
    (conv,) = svc.store.conversations.list_for_user(user.user_id)
    assert at.button(key=f"conv-{conv.id}").label.startswith("List the tracks")
    at.text_input(key="rename-title").input("Tracks I teach")
    at.button(key="FormSubmitter:rename-Rename").click().run()
    assert not at.exception
    renamed = svc.store.conversations.get(conv.id)
    assert renamed is not None and renamed.title == "Tracks I teach"
    at.button(key="new-conversation").click().run()
    assert not at.exception and "What can I help you with?" in at.title[0].value
    at.text_input(key="conversation-search").input("tracks i").run()
    assert button_keys(at, "conv-") == [f"conv-{conv.id}"]
    at.text_input(key="conversation-search").input("nothing like it").run()
    assert button_keys(at, "conv-") == [] and "No conversation matches" in texts(at)
    at.text_input(key="conversation-search").input("").run()
    at.button(key=f"conv-{conv.id}").click().run()
    at.button(key="delete-conversation").click().run()
    assert not at.exception
    assert svc.store.conversations.get(conv.id) is None


def test_a_new_session_shows_the_same_conversation_and_context(
    dashboard: Path, app: Callable[[], AppTest]
) -> None:
    first = say(sign_in(app, ADMIN), "How do I enroll students in a track?")
    conv = conversation_id(first)
    before = [m.value for m in first.markdown]
    again = sign_in(app, ADMIN)  # a reload: a new session, signed in again
    again.query_params["c"] = conv
    again.run()
    assert not again.exception
    assert [m.value for m in again.markdown] == before
    assert "How do I enroll students in a track?" in texts(again)


def test_usage_panel_shows_each_turn(dashboard: Path, app: Callable[[], AppTest]) -> None:
    at = say(sign_in(app, ADMIN), "List the projects")
    at.tabs  # noqa: B018  (the tabs exist)
    at.session_state.panel = "This conversation"
    at.run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert {"Input tokens", "Output tokens", "Cost", "Cache read", "Cache write"} <= set(labels)
    cost = next(m.value for m in at.metric if m.label == "Cost")
    assert cost == "$0.00"  # the offline planner makes no paid call


def test_a_running_turn_shows_a_stop_button_that_stops_it(
    dashboard: Path, app: Callable[[], AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.config import get_settings
    from tests.fakes.anthropic_server import FakeAnthropicServer, reply_text

    with FakeAnthropicServer(api_key="test-key") as claude:
        claude.enqueue(
            reply_text("Enrollment works like this: " + "step by step, " * 80, chunk_size=10, chunk_delay=0.1)
        )
        monkeypatch.setenv("LLM_PROVIDER", "anthropic")
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", claude.base_url)
        monkeypatch.setenv("LLM_MAX_RETRIES", "0")
        get_settings.cache_clear()
        at = sign_in(app, ADMIN)
        assert "Claude (claude-sonnet-5-5)" in texts(at)
        at.chat_input(key="prompt").set_value("How does enrollment work?").run()
        assert not at.exception
        (stop,) = button_keys(at, "stop-")
        assert at.chat_input(key="prompt").disabled  # one turn at a time
        # Stop while the model streams: a chat turn's retrieval may first embed passages for a
        # moment (RetrievalService.search_for_turn), so wait until the model has been called.
        deadline = time.monotonic() + 10
        while not claude.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        click(at, stop)
        assert claude.wait_for_disconnect(10)
    view = conversation_view(services().store, conversation_id(at))
    assert view is not None and view.turns[-1].status == "cancelled"
    assert "Stopped. What was written so far is kept" in texts(at)
    assert not button_keys(at, "stop-")


def test_feedback_on_an_answer_is_stored_and_shown_again(dashboard: Path, app: Callable[[], AppTest]) -> None:
    at = say(sign_in(app, ADMIN), "List the projects")
    svc = services()
    conv = conversation_id(at)
    view = conversation_view(svc.store, conv)
    assert view is not None
    answer = view.turns[-1].answer_seq
    at.feedback(key=f"feedback-{view.turns[-1].id}").set_value(0).run()  # thumbs down
    assert not at.exception
    (vote,) = svc.store.feedback.list(conversation_id=conv)
    assert (vote.message_seq, vote.rating, vote.user_id) == (answer, -1, at.session_state.user.user_id)
    again = sign_in(app, ADMIN)
    again.query_params["c"] = conv
    again.run()
    assert again.feedback(key=f"feedback-{view.turns[-1].id}").value == 0
