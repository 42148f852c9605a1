"""The operator pages in AppTest: Actions and audit, Usage and cost, Analytics, Retrieval lab, Index.

Each page for each role that may see it, on an empty store and on one filled with a synthetic
history of both demo organizations; a site admin sees both, an organization admin only theirs,
instructors and students not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.store import Store
from bench.synthetic import populate
from sandbox.seed import seed_id
from sandbox.seed_data import ORGANIZATIONS

from .helpers import ADMIN, INSTRUCTOR, OTHER_ADMIN, SITE_ADMIN, STUDENT, say, services, sign_in, texts

PAGES = [
    "pages/actions.py",
    "pages/usage.py",
    "pages/analytics.py",
    "pages/retrieval_lab.py",
    "pages/index.py",
]


@pytest.fixture
def history(dashboard: Path) -> dict[str, str]:
    """Synthetic conversations, actions and usage of both demo organizations' real users; org id by slug."""
    orgs = []
    for org in ORGANIZATIONS:
        people = [(str(seed_id("user", u.email)), u.email, u.full_name) for u in org.users if u.password]
        orgs.append((str(seed_id("organization", org.slug)), org.name, people))
    with Store(f"sqlite:///{dashboard / 'assistant.db'}") as store:
        populate(store, conversations=60, usage_rows=600, now=datetime.now(UTC), days=25, orgs=orgs)
    return {org.slug: str(seed_id("organization", org.slug)) for org in ORGANIZATIONS}


def open_page(app: Callable[[], AppTest], email: str, page: str) -> AppTest:
    at = sign_in(app, email)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("email", [SITE_ADMIN, ADMIN])
def test_every_page_renders_for_admins_on_an_empty_store(
    dashboard: Path, app: Callable[[], AppTest], page: str, email: str
) -> None:
    at = open_page(app, email, page)
    assert at.title and not at.error


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("email", [SITE_ADMIN, ADMIN, OTHER_ADMIN])
def test_every_page_renders_with_data(
    history: dict[str, str], app: Callable[[], AppTest], page: str, email: str
) -> None:
    at = open_page(app, email, page)
    assert at.title and not at.error


@pytest.mark.parametrize("email", [INSTRUCTOR, STUDENT])
def test_instructors_and_students_do_not_get_the_operator_pages(
    dashboard: Path, app: Callable[[], AppTest], email: str
) -> None:
    at = sign_in(app, email)
    for page in PAGES:
        with pytest.raises(ValueError):
            at.switch_page(page)


def test_empty_states_say_what_to_do(dashboard: Path, app: Callable[[], AppTest]) -> None:
    assert "Start a conversation on the Chat page" in texts(open_page(app, ADMIN, "pages/usage.py"))
    assert "Ask the assistant something on the Chat page" in texts(
        open_page(app, ADMIN, "pages/analytics.py")
    )
    assert "The assistant proposes one when someone asks it" in texts(
        open_page(app, ADMIN, "pages/actions.py")
    )


def test_a_site_admin_sees_both_organizations_an_organization_admin_only_theirs(
    history: dict[str, str], app: Callable[[], AppTest]
) -> None:
    site = open_page(app, SITE_ADMIN, "pages/usage.py")
    site.segmented_control(key="by").set_value("organization").run()
    labels = set(site.dataframe[0].value["label"])
    assert labels == {"Northwind Academy", "Brightpath Institute"}

    org = open_page(app, ADMIN, "pages/usage.py")
    assert not [s for s in org.selectbox if s.key == "org"]  # no choice of organization
    org.segmented_control(key="by").set_value("user").run()
    people = set(org.dataframe[0].value["label"])
    northwind = {u.email for u in ORGANIZATIONS[0].users}
    assert people and all(any(email in label for email in northwind) for label in people)

    actions = open_page(app, OTHER_ADMIN, "pages/actions.py")
    table = next(d.value for d in actions.dataframe if "preview" in d.value.columns)
    assert set(table["organization"]) == {"Brightpath Institute"}

    site_actions = open_page(app, SITE_ADMIN, "pages/actions.py")
    site_actions.selectbox(key="org").select(history["brightpath-institute"]).run()
    table = next(d.value for d in site_actions.dataframe if "preview" in d.value.columns)
    assert set(table["organization"]) == {"Brightpath Institute"}


def test_filters_survive_a_rerun(history: dict[str, str], app: Callable[[], AppTest]) -> None:
    at = open_page(app, ADMIN, "pages/actions.py")
    at.selectbox(key="days").select("7").run()
    at.multiselect(key="status").select("rejected").run()
    at.run()
    assert not at.exception
    assert at.selectbox(key="days").value == "7" and at.multiselect(key="status").value == ["rejected"]
    table = next((d.value for d in at.dataframe if "preview" in d.value.columns), None)
    assert table is None or set(table["status"]) == {"rejected"}


def test_an_action_is_approved_from_the_actions_page(dashboard: Path, app: Callable[[], AppTest]) -> None:
    at = say(sign_in(app, ADMIN), "create an intermediate Rust track in Cloud Engineering Pathway")
    svc = services()
    (action,) = svc.actions.waiting(user_id=at.session_state.user.user_id)
    at.switch_page("pages/actions.py").run()
    assert any("Waiting for your decision" in s.value for s in at.subheader)
    at.button(key=f"approve-{action.id}").click().run()
    assert svc.runner.wait_idle(30)
    assert svc.store.actions.require(action.id).status == "succeeded"
    at.run()
    table = next(d.value for d in at.dataframe if "preview" in d.value.columns)
    assert list(table["status"]) == ["succeeded"]
    events = [e.event for e in svc.store.reports.audit_of(action.id)]
    assert events == ["proposed", "approved", "executed"]


def test_analytics_with_data(history: dict[str, str], app: Callable[[], AppTest]) -> None:
    at = open_page(app, ADMIN, "pages/analytics.py")
    labels = {m.label for m in at.metric}
    assert {
        "Conversations",
        "Messages",
        "Latency p50",
        "Latency p95",
        "Positive feedback",
        "Approved",
    } <= labels
    assert any("weakest first" in c.value for c in at.caption)


def test_index_page_shows_the_index_and_a_site_admin_updates_it(
    dashboard: Path, app: Callable[[], AppTest]
) -> None:
    at = open_page(app, SITE_ADMIN, "pages/index.py")
    assert {"Files", "Chunks", "Skipped files", "Size on disk"} <= {m.label for m in at.metric}
    at.button(key="index-update").click().run()
    job = services().jobs.latest("index")
    assert job is not None and services().jobs.wait(job, 120) and job.status == "done", job and job.error
    at.run()
    assert any("Updating the index finished" in s.value for s in at.success)
    org_admin = open_page(app, ADMIN, "pages/index.py")
    assert not [b for b in org_admin.button if b.key == "index-update"]


def test_retrieval_lab_query_evaluation_and_replay(dashboard: Path, app: Callable[[], AppTest]) -> None:
    at = say(sign_in(app, ADMIN), "How do I enroll students in a track?")
    at.switch_page("pages/retrieval_lab.py").run()
    at.text_input(key="q").input("who may publish a course").run()
    assert not at.exception
    sides = at.dataframe[0].value
    assert {"BM25", "Dense (chunk cards)", "Dense (file cards)", "Fused (RRF)"} <= set(sides.columns)
    assert len(sides) == at.number_input(key="k").value
    at.number_input(key="w_bm25").set_value(0.0).run()  # BM25 out: the fused ranking follows the dense ones
    assert not at.exception

    at.tabs[0]
    at.session_state.lab = "Evaluate"
    at.run()
    at.button(key="run-eval").click().run()
    job = services().jobs.latest("eval")
    assert job is not None and services().jobs.wait(job, 120) and job.status == "done", job and job.error
    at.run()
    metrics = next(d.value for d in at.dataframe if "recall@5" in d.value.columns)
    assert metrics["group"][0] == "overall" and metrics["n"][0] == 52
    (run,) = services().store.eval_runs.list()
    assert run.settings["bm25"] == 0.0 and run.questions == 52

    at.session_state.lab = "Replay"
    at.run()
    diff = next(d.value for d in at.dataframe if "change" in d.value.columns)
    assert len(diff) > 0 and set(diff["change"]) <= {"same", "new", "dropped"} | {
        c for c in diff["change"] if c.startswith(("up", "down"))
    }
