"""The same sandbox on PostgreSQL: seeding, rules, cascades and races hold there too.

Uses the team's throwaway-database helper (tests/support/postgres.py); skipped with the reason
when PostgreSQL does not answer on 127.0.0.1:5432.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox.server import RunningSandbox, start_in_thread
from sandbox.settings import SandboxSettings
from tests.sandbox.helpers import (
    NW,
    NWD,
    TEST_SECRET,
    WRITERS,
    admin_headers,
    course_id,
    org_id,
    project_id,
    race,
    track_id,
)
from tests.support import postgres

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_sandbox() -> Iterator[RunningSandbox]:
    admin_url, reason = postgres.find_admin_url()
    if admin_url is None:
        pytest.skip(reason)
    with postgres.temporary_database(admin_url) as url:
        settings = SandboxSettings(database_url=url, jwt_secret=TEST_SECRET)
        with start_in_thread(settings) as running:
            yield running


def test_seeded_data_and_reads_work_on_postgresql(pg_sandbox: RunningSandbox) -> None:
    base = pg_sandbox.base_url
    with httpx.Client(timeout=15, headers=admin_headers()) as client:
        login = client.post(
            f"{base}/auth/login", json={"email": f"maya.patel@{NWD}", "password": "OrgAdmin#2024"}
        )
        assert login.status_code == 200, login.text
        projects = client.get(f"{base}/organizations/{org_id(NW)}/projects").json()
        assert projects["total"] == 3
        tracks = client.get(f"{base}/tracks/", params={"difficulty_level": "advanced"}).json()
        assert {t["name"] for t in tracks["items"]} == {"Deep Learning Systems", "Scalable Web Architecture"}
        summary = client.get(f"{base}/analytics/organizations/{org_id(NW)}/summary").json()
        assert summary["courses"]["by_status"] == {"published": 6, "unpublished": 2}
        course = client.get(f"{base}/analytics/courses/{course_id(NW, 'Python Basics for Analysts')}/summary")
        assert course.status_code == 200 and course.json()["completion_rate"] == 0.25


def test_rules_cascades_and_idempotency_on_postgresql(pg_sandbox: RunningSandbox) -> None:
    base = pg_sandbox.base_url
    with httpx.Client(timeout=15, headers=admin_headers()) as client:
        clash = client.post(
            f"{base}/organizations/{org_id(NW)}/projects",
            json={"name": "web DEVELOPMENT bootcamp", "description": "Clashes case-insensitively."},
        )
        assert clash.status_code == 409 and clash.json()["rule"] == "project_name_taken"
        body = {"name": "Postgres Track", "project_id": str(project_id(NW, "web-development-bootcamp"))}
        first = client.post(f"{base}/tracks/", json=body, headers={"Idempotency-Key": "pg-1"})
        again = client.post(f"{base}/tracks/", json=body, headers={"Idempotency-Key": "pg-1"})
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        pda = track_id(NW, "Python for Data Analysis")
        assert client.delete(f"{base}/tracks/{pda}").json()["rule"] == "active_enrollments"
        forced = client.delete(f"{base}/tracks/{pda}", params={"force": "true"})
        assert forced.status_code == 200 and forced.json()["cascaded"]["enrollments"] == 8
        assert client.get(f"{base}/courses/{course_id(NW, 'Python Basics for Analysts')}").status_code == 404


def test_concurrent_creates_on_postgresql(pg_sandbox: RunningSandbox) -> None:
    url = f"{pg_sandbox.base_url}/organizations/{org_id(NW)}/projects"
    body = {"name": "Raced On Postgres", "description": "Eight writers, one winner."}
    responses = race(lambda client: client.post(url, json=body, headers=admin_headers()))
    assert sorted(r.status_code for r in responses) == [201] + [409] * (WRITERS - 1)
    assert {r.json()["rule"] for r in responses if r.status_code == 409} == {"project_name_taken"}
