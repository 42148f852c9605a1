"""The operator pages in a real browser, on a store holding a synthetic history of both demo
organizations: an evaluation run in the Retrieval lab, an approval from Actions and audit, a usage
export, a filtered view reproduced from its link, and a screenshot of every page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from app.store import Store
from bench.synthetic import populate
from sandbox.seed import seed_id
from sandbox.seed_data import ORGANIZATIONS

from .conftest import Dashboard, shoot, start_dashboard, stop_dashboard

ADMIN = ("maya.patel@northwind-academy.example", "OrgAdmin#2024")


@pytest.fixture(scope="module")
def dashboard(
    tmp_path_factory: pytest.TempPathFactory, seeded_sandbox_db: Path, sandbox_index: Path
) -> Iterator[Dashboard]:
    data_dir = tmp_path_factory.mktemp("e2e-operators")
    orgs = []
    for org in ORGANIZATIONS:
        people = [(str(seed_id("user", u.email)), u.email, u.full_name) for u in org.users if u.password]
        orgs.append((str(seed_id("organization", org.slug)), org.name, people))
    with Store(f"sqlite:///{data_dir / 'assistant.db'}") as store:
        populate(store, conversations=300, usage_rows=3000, now=datetime.now(UTC), days=60, orgs=orgs)
    running = start_dashboard(data_dir, seeded_sandbox_db, sandbox_index)
    yield running
    stop_dashboard(running)


def sign_in(page: Any, dashboard: Dashboard, who: str) -> None:
    page.goto(dashboard.url)
    page.get_by_role("button", name=who).click()
    expect(page.get_by_text("What can I help you with?")).to_be_visible()
    # The session cookie is written by a script on the run after signing in; a test that opens
    # another address must wait for it, as a person's next click always does.
    page.wait_for_function("document.cookie.includes('cca_session=')")


def test_a_site_admin_runs_an_evaluation_and_sees_every_page(page: Any, dashboard: Dashboard) -> None:
    sign_in(page, dashboard, "Sam Rivera · Site admin")
    page.get_by_role("link", name="Retrieval lab").click()
    query = page.get_by_placeholder("e.g. who may publish a course?")
    query.fill("who may publish a course?")
    query.press("Enter")
    expect(page.get_by_text("Rankings side by side")).to_be_visible()
    shoot(page, "10-retrieval-lab-query", height=1400)
    page.get_by_role("tab", name="Evaluate").click()
    page.get_by_role("button", name="Run the evaluation").click()
    expect(page.get_by_text("Retrieval quality by question kind")).to_be_visible()
    expect(page.get_by_role("combobox", name="Run")).to_be_visible()  # the run, listed with its figures
    expect(page.get_by_text(re.compile(r"Index: generation \d+ · .* · settings \{'k': 8"))).to_be_visible()
    shoot(page, "11-retrieval-lab-evaluation", height=1400)

    for link, heading, name in (("Usage and cost", "Usage and cost", "12-usage-and-cost"),
                                ("Analytics", "Messages and conversations per day", "13-analytics"),
                                ("Actions and audit", "All actions", "14-actions-and-audit"),
                                ("Index", "Skipped, and why", "15-index")):  # fmt: skip
        page.get_by_role("link", name=link).click()
        expect(page.get_by_text(heading).first).to_be_visible()
        shoot(page, name, height=1400)


def test_an_organization_admin_approves_from_actions_and_exports_usage(
    page: Any, dashboard: Dashboard
) -> None:
    sign_in(page, dashboard, "Maya Patel · Organization admin")
    box = page.get_by_placeholder("Ask about the platform, or ask for a change ...")
    box.fill("create an advanced Go track in Cloud Engineering Pathway")
    box.press("Enter")
    expect(page.get_by_text("Waiting for your approval")).to_be_visible()

    page.get_by_role("link", name="Actions and audit").click()
    expect(page.get_by_text("Waiting for your decision (1)")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Done. The outcome is in the conversation")).to_be_visible()
    with dashboard.client(*ADMIN) as client:
        tracks = [t for t in client.list_all("/tracks/") if t["name"] == "Advanced Go"]
    assert len(tracks) == 1 and tracks[0]["difficulty_level"] == "advanced"
    expect(page.get_by_text("Brightpath Institute")).to_have_count(0)  # only their own organization

    page.get_by_role("link", name="Usage and cost").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export the period's model calls (CSV)").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0][:3] == ["at", "organization_id", "user_id"] and len(rows) > 1
    northwind = str(seed_id("organization", "northwind-academy"))
    assert {r[1] for r in rows[1:]} == {northwind}


def test_a_link_reproduces_a_filtered_view(page: Any, dashboard: Dashboard) -> None:
    sign_in(page, dashboard, "Maya Patel · Organization admin")
    page.goto(f"{dashboard.url}/audit?days=Last+7+days&status=rejected")  # as the address bar shows it
    expect(page.get_by_role("combobox", name="Period")).to_have_value("Last 7 days")
    statuses = page.get_by_role("gridcell").filter(
        has_text=re.compile(r"^(succeeded|failed|expired|pending)$")
    )
    expect(statuses).to_have_count(0)
