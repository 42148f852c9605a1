"""Test helpers: who is who in the seeded world, their tokens, and database snapshots."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import httpx2
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.orm import Session

from sandbox.seed import seed_id
from sandbox.shared.auth import resolve_principal
from sandbox.shared.context import SandboxContext
from sandbox.shared.models import Base, User
from sandbox.shared.security import issue_token

TEST_SECRET = "test-secret-for-the-sandbox-suite-0123456789abcdef"
WRITERS = 8
NW, BP = "northwind-academy", "brightpath-institute"
NWD, BPD = "northwind-academy.example", "brightpath.example"

PEOPLE = {
    "site_admin": "site.admin@coursecreator.example",
    "nw_admin": f"maya.patel@{NWD}",
    "nw_admin2": f"jonas.weber@{NWD}",
    "nw_instructor": f"daniel.kim@{NWD}",
    "nw_instructor2": f"sofia.alvarez@{NWD}",
    "nw_unverified": f"liam.oconnor@{NWD}",
    "nw_student": f"aisha.rahman@{NWD}",
    "nw_student2": f"hana.sato@{NWD}",
    "bp_admin": f"grace.okafor@{BPD}",
    "bp_instructor": f"ethan.brooks@{BPD}",
    "bp_student": f"ivan.petrov@{BPD}",
}
# the four roles of the permission matrix, acting in Northwind Academy
ROLE_ACTORS = {
    "site_admin": "site_admin",
    "organization_admin": "nw_admin",
    "instructor": "nw_instructor",
    "student": "nw_student",
}


def org_id(slug: str) -> uuid.UUID:
    return seed_id("organization", slug)


def project_id(org: str, slug: str) -> uuid.UUID:
    return seed_id("project", org, slug)


def track_id(org: str, name: str) -> uuid.UUID:
    return seed_id("track", org, name)


def course_id(org: str, title: str) -> uuid.UUID:
    return seed_id("course", org, title)


def user_id(who: str) -> uuid.UUID:
    return seed_id("user", PEOPLE.get(who, who))


def membership_id(who: str) -> uuid.UUID:
    return seed_id("membership", PEOPLE.get(who, who))


class Api:
    """A TestClient on one sandbox app, acting as any seeded person."""

    def __init__(self, client: TestClient, app: FastAPI) -> None:
        self.client = client
        self.app = app
        self.context: SandboxContext = app.state.sandbox

    def session(self) -> Session:
        return self.context.session_factory()

    def token(self, who: str, **claims: Any) -> str:
        """A valid token for the person, as /auth/login would issue it (claims can be overridden)."""
        with self.session() as session:
            user = session.scalar(select(User).where(User.email == PEOPLE.get(who, who)))
            assert user is not None, who
            principal = resolve_principal(session, user.id)
            assert principal is not None, f"{who} cannot act"
            values: dict[str, Any] = {
                "secret": TEST_SECRET,
                "user_id": user.id,
                "role": principal.role.value,
                "organization_id": principal.organization_id,
                "ttl_minutes": 30,
            }
            values.update(claims)
            return issue_token(**values)[0]

    def headers(self, who: str | None, **extra: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token(who)}"} if who else {}
        headers.update(extra)
        return headers

    def call(self, method: str, path: str, who: str | None = None, **kwargs: Any) -> httpx2.Response:
        headers = {**self.headers(who), **kwargs.pop("headers", {})}
        return self.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)

    def get(self, path: str, who: str | None = None, **kwargs: Any) -> httpx2.Response:
        return self.call("GET", path, who, **kwargs)

    def post(self, path: str, who: str | None = None, **kwargs: Any) -> httpx2.Response:
        return self.call("POST", path, who, **kwargs)

    def put(self, path: str, who: str | None = None, **kwargs: Any) -> httpx2.Response:
        return self.call("PUT", path, who, **kwargs)

    def delete(self, path: str, who: str | None = None, **kwargs: Any) -> httpx2.Response:
        return self.call("DELETE", path, who, **kwargs)

    def count(self, model: Any, *where: ColumnElement[bool]) -> int:
        with self.session() as session:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def scalar(self, stmt: Any) -> Any:
        with self.session() as session:
            return session.scalar(stmt)

    def execute(self, sql: str, **params: Any) -> None:
        with self.session() as session:
            session.execute(text(sql), params)
            session.commit()

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table (sorted), to prove a refused request changed nothing."""
        with self.session() as session:
            return {
                table.name: sorted(tuple(map(repr, row)) for row in session.execute(table.select()))
                for table in Base.metadata.sorted_tables
            }


def assert_error(
    response: httpx.Response | httpx2.Response, status: int, rule: str, field: str | None = "ANY"
) -> dict[str, Any]:
    """The response is the error shape with this status and rule (and field, unless ANY)."""
    assert response.status_code == status, (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    assert set(body) >= {"detail", "field", "rule"}, body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert body["rule"] == rule, body
    if field != "ANY":
        assert body["field"] == field, body
    return body


def admin_headers(**extra: str) -> dict[str, str]:
    token, _ = issue_token(
        secret=TEST_SECRET,
        user_id=seed_id("user", "maya.patel@northwind-academy.example"),
        role="organization_admin",
        organization_id=org_id(NW),
        ttl_minutes=10,
    )
    return {"Authorization": f"Bearer {token}", **extra}


def race(send: Callable[[httpx.Client], httpx.Response]) -> list[httpx.Response]:
    """Fire WRITERS requests at the same moment, one client (connection) each."""
    barrier = threading.Barrier(WRITERS)
    responses: list[httpx.Response] = []
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            response = send(client)
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=worker) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(responses) == WRITERS
    return responses
