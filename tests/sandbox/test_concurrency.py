"""Concurrent writes over real HTTP against a real SQLite file: uniqueness holds, nothing errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from sandbox.server import RunningSandbox, start_in_thread
from sandbox.services.organization_management import projects
from sandbox.settings import SandboxSettings
from sandbox.shared.db import make_engine, make_session_factory
from sandbox.shared.models import IdempotencyRecord, Project, Track
from tests.sandbox.helpers import (
    NW,
    TEST_SECRET,
    WRITERS,
    Api,
    admin_headers,
    assert_error,
    org_id,
    project_id,
    race,
)


@pytest.fixture
def server(db_path: Path) -> Iterator[RunningSandbox]:
    settings = SandboxSettings(database_url=f"sqlite:///{db_path}", jwt_secret=TEST_SECRET)
    with start_in_thread(settings) as running:
        yield running


def count(db_path: Path, stmt: Any) -> int:
    engine = make_engine(f"sqlite:///{db_path}")
    try:
        with make_session_factory(engine)() as session:
            return int(session.scalar(stmt) or 0)
    finally:
        engine.dispose()


def test_concurrent_creates_of_one_project_name_give_one_201(server: RunningSandbox, db_path: Path) -> None:
    url = f"{server.base_url}/organizations/{org_id(NW)}/projects"
    body = {"name": "Concurrent Program", "description": "Created by eight writers at once."}
    responses = race(lambda client: client.post(url, json=body, headers=admin_headers()))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (WRITERS - 1), [r.text for r in responses]
    assert {r.json()["rule"] for r in responses if r.status_code == 409} == {"project_name_taken"}
    assert count(db_path, select(func.count()).select_from(Project).where(Project.name == body["name"])) == 1


def test_concurrent_creates_of_one_track_name_give_one_201(server: RunningSandbox, db_path: Path) -> None:
    body = {"name": "Concurrent Track", "project_id": str(project_id(NW, "data-science-foundations"))}
    responses = race(
        lambda client: client.post(f"{server.base_url}/tracks/", json=body, headers=admin_headers())
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * (WRITERS - 1)
    assert count(db_path, select(func.count()).select_from(Track).where(Track.name == body["name"])) == 1


def test_concurrent_retries_with_one_idempotency_key_create_once(
    server: RunningSandbox, db_path: Path
) -> None:
    url = f"{server.base_url}/organizations/{org_id(NW)}/projects"
    body = {"name": "Retried Program", "description": "Sent eight times with one key."}
    headers = admin_headers(**{"Idempotency-Key": "retry-storm"})
    responses = race(lambda client: client.post(url, json=body, headers=headers))
    created = [r for r in responses if r.status_code == 201]
    assert created and all(r.json()["id"] == created[0].json()["id"] for r in created)
    others = [r for r in responses if r.status_code != 201]
    assert all(r.status_code == 409 and r.json()["rule"] == "idempotency_key_in_progress" for r in others)
    assert count(db_path, select(func.count()).select_from(Project).where(Project.name == body["name"])) == 1
    assert count(db_path, select(func.count()).select_from(IdempotencyRecord)) == 1


def test_constraint_violation_is_reported_like_the_precheck(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The path a lost race takes: the pre-check saw nothing, the unique constraint fires at commit."""
    monkeypatch.setattr(projects, "raise_if_conflict", lambda find: None)
    body = {
        "name": "data science FOUNDATIONS",
        "description": "Slips past the pre-check.",
        "slug": "fresh-slug",
    }
    response = api.post(f"/organizations/{org_id(NW)}/projects", "nw_admin", json=body)
    assert_error(response, 409, "project_name_taken", "name")
    assert api.count(Project) == 5
