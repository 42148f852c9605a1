"""The assistant service in a real browser: the platform's chat widget on its demo page, and the
Gradio stakeholder demo, each carrying the design note's example through approval; the track is
then found through the platform's own API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Dashboard, shoot, start_service, stop_dashboard

ADMIN = ("maya.patel@northwind-academy.example", "OrgAdmin#2024")


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, seeded_sandbox_db: Path, sandbox_index: Path
) -> Iterator[Dashboard]:
    running = start_service(tmp_path_factory.mktemp("e2e-service"), seeded_sandbox_db, sandbox_index)
    yield running
    stop_dashboard(running)


def tracks_named(service: Dashboard, name: str) -> list[dict[str, Any]]:
    with service.client(*ADMIN) as client:
        return [t for t in client.list_all("/tracks/") if t["name"] == name]


def test_the_widget_asks_for_a_track_and_approves_it(page: Any, service: Dashboard) -> None:
    page.goto(f"{service.url}/widget-demo")
    expect(page.get_by_label("Demo user (the bundled sandbox platform)")).to_contain_text("Maya Patel")
    page.get_by_role("button", name="Sign in as this user").click()
    expect(page.locator(".cca-status")).to_contain_text("online")
    page.get_by_label("Message").fill("Create an intermediate Python track in Data Science Foundations")
    page.get_by_label("Message").press("Enter")
    card = page.locator(".cca-action")
    expect(card).to_contain_text("Proposed: Create track 'Intermediate Python' (intermediate)")
    expect(card).to_contain_text("tracks: 3 → 4")
    assert tracks_named(service, "Intermediate Python") == []  # nothing happens before approval
    shoot(page, "16-widget-proposal", height=900)
    card.get_by_role("button", name="Approve").click()
    expect(page.locator(".cca-success")).to_contain_text("Created track 'Intermediate Python'")
    expect(page.locator(".cca-bot").last).to_contain_text("Would you like to add courses")
    shoot(page, "17-widget-approved", height=900)
    (track,) = tracks_named(service, "Intermediate Python")
    assert track["difficulty_level"] == "intermediate"


def test_the_gradio_demo_asks_for_a_track_and_approves_it(page: Any, service: Dashboard) -> None:
    page.goto(f"{service.url}/demo/")
    # the demo users are filled in by the page's load event; signing in before it has nobody chosen
    expect(page.get_by_role("combobox", name="Demo user")).to_have_value(re.compile("Maya Patel"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(re.compile(r"Signed in as Maya Patel"))).to_be_visible()
    box = page.get_by_placeholder("Ask about the platform, or ask for a change")
    box.fill("Create an advanced Python track in Web Development Bootcamp")
    page.get_by_role("button", name="Send").click()
    expect(
        page.get_by_text(re.compile(r"Waiting for your approval: Create track 'Advanced Python'"))
    ).to_be_visible()
    shoot(page, "18-stakeholder-demo", height=900)
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text(re.compile(r"Created track 'Advanced Python'")).first).to_be_visible()
    (track,) = tracks_named(service, "Advanced Python")
    assert track["difficulty_level"] == "advanced"
