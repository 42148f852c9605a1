"""An organization admin in a real browser, on the embedded defaults (offline provider, sandbox)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Dashboard, shoot, start_dashboard, stop_dashboard

ADMIN = ("maya.patel@northwind-academy.example", "OrgAdmin#2024")
DESIGN_NOTE = "Create an intermediate Python track in Data Science Foundations"


@pytest.fixture(scope="module")
def dashboard(
    tmp_path_factory: pytest.TempPathFactory, seeded_sandbox_db: Path, sandbox_index: Path
) -> Iterator[Dashboard]:
    running = start_dashboard(tmp_path_factory.mktemp("e2e-offline"), seeded_sandbox_db, sandbox_index)
    yield running
    stop_dashboard(running)


def sign_in_as_demo_admin(page: Any, dashboard: Dashboard) -> None:
    page.goto(dashboard.url)
    expect(page.get_by_text("Demo accounts")).to_be_visible()
    page.get_by_role("button", name="Maya Patel · Organization admin").click()
    expect(page.get_by_text("What can I help you with?")).to_be_visible()


def visible_text(page: Any, text: str) -> Any:
    """The first visible element with this text (steps in collapsed expanders hold copies)."""
    return page.get_by_text(text).filter(visible=True).first


def ask(page: Any, text: str) -> None:
    box = page.get_by_placeholder("Ask about the platform, or ask for a change ...")
    expect(box).to_be_enabled()
    box.fill(text)
    box.press("Enter")


def test_ask_then_approve_a_track_and_find_it_on_the_platform(page: Any, dashboard: Dashboard) -> None:
    page.goto(dashboard.url)
    expect(page.get_by_text("Demo accounts")).to_be_visible()
    shoot(page, "01-sign-in")
    page.get_by_role("button", name="Maya Patel · Organization admin").click()
    expect(page.get_by_text("What can I help you with?")).to_be_visible()
    expect(page.get_by_text("Offline: retrieval + planner, no LLM")).to_be_visible()
    shoot(page, "02-chat-empty")

    ask(page, "What roles can an instructor have on a course?")
    citation = page.get_by_role("button", name=re.compile(r"^S1 · "))
    expect(citation).to_be_visible()
    citation.click()
    expect(page.get_by_role("tab", name="Context", selected=True)).to_be_visible()
    expect(page.locator("code").filter(has_text="│").first).to_be_visible()  # lines numbered as in the file
    shoot(page, "03-answer-with-context", height=1300)

    ask(page, DESIGN_NOTE)
    expect(page.get_by_text("Waiting for your approval")).to_be_visible()
    expect(page.get_by_role("tab", name="Pending actions", selected=True)).to_be_visible()
    expect(page.get_by_text("What will change")).to_be_visible()
    shoot(page, "04-pending-action", height=1300)
    page.get_by_role("button", name="Approve").click()
    expect(visible_text(page, "Created track 'Intermediate Python'")).to_be_visible()
    shoot(page, "05-approved", height=1300)

    with dashboard.client(*ADMIN) as client:
        projects = client.list_all(f"/organizations/{client.me().organization_id}/projects")
        dsf = next(p["id"] for p in projects if p["name"] == "Data Science Foundations")
        tracks = [
            t for t in client.list_all("/tracks/", project_id=dsf) if t["name"] == "Intermediate Python"
        ]
    assert len(tracks) == 1 and tracks[0]["difficulty_level"] == "intermediate"

    page.get_by_role("tab", name="This conversation").click()
    expect(page.get_by_text("No tokens: the offline planner calls no model")).to_be_visible()
    shoot(page, "06-this-conversation", height=1300)

    page.reload()  # the session cookie keeps the admin signed in, the URL keeps the conversation
    expect(page.get_by_text("Maya Patel").first).to_be_visible()
    expect(visible_text(page, DESIGN_NOTE)).to_be_visible()
    expect(visible_text(page, "Created track 'Intermediate Python'")).to_be_visible()


def test_a_rejected_deletion_leaves_the_project(page: Any, dashboard: Dashboard) -> None:
    sign_in_as_demo_admin(page, dashboard)
    ask(page, "Delete the Web Development Bootcamp project")
    expect(page.get_by_text("Waiting for your approval")).to_be_visible()
    expect(page.get_by_text("Type Web Development Bootcamp to confirm the deletion")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_be_disabled()
    page.get_by_role("button", name="Reject").click()
    page.get_by_label("Why? (optional, the assistant is told)").fill("still running this term")
    page.get_by_role("button", name="Reject this action").click()
    expect(visible_text(page, "still running this term")).to_be_visible()
    with dashboard.client(*ADMIN) as client:
        org = client.me().organization_id
        names = [p["name"] for p in client.list_all(f"/organizations/{org}/projects")]
    assert "Web Development Bootcamp" in names
