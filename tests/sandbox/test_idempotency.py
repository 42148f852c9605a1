"""Idempotency-Key: retries replay the first response and create nothing twice."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from starlette.types import Message, Receive, Scope, Send

from sandbox.shared.idempotency import IdempotencyMiddleware
from sandbox.shared.models import IdempotencyRecord, Project, Track, utcnow
from sandbox.shared.unit_of_work import DeferredCommitSession
from tests.sandbox.helpers import NW, Api, assert_error, membership_id, org_id, project_id, user_id

ORG = org_id(NW)
PROJECTS = f"/organizations/{ORG}/projects"
BODY = {"name": "Analytics Engineering", "description": "Warehouses, dbt and data modeling."}


def post(api: Api, key: str, body: Any = BODY, who: str = "nw_admin", path: str = PROJECTS) -> Any:
    return api.post(path, who, json=body, headers={"Idempotency-Key": key})


def test_same_key_same_body_replays_the_first_response(api: Api) -> None:
    first = post(api, "create-analytics-1")
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    retry = post(
        api, "create-analytics-1", dict(reversed(list(BODY.items())))
    )  # same content, other key order
    assert retry.status_code == 201
    assert retry.json() == first.json() and retry.headers["idempotent-replayed"] == "true"
    assert api.count(Project, Project.name == BODY["name"]) == 1
    assert api.count(IdempotencyRecord) == 1


def test_same_key_different_body_is_refused_and_runs_nothing(api: Api) -> None:
    assert post(api, "k-1").status_code == 201
    before = api.snapshot()
    changed = post(api, "k-1", {**BODY, "name": "Something Else"})
    assert_error(changed, 422, "idempotency_key_reused", "Idempotency-Key")
    other_endpoint = post(
        api,
        "k-1",
        {"name": "SQL", "project_id": str(project_id(NW, "data-science-foundations"))},
        path="/tracks/",
    )
    assert_error(other_endpoint, 422, "idempotency_key_reused")
    assert api.snapshot() == before


def test_keys_are_scoped_per_user(api: Api) -> None:
    assert post(api, "shared-key").status_code == 201
    other_user = post(api, "shared-key", {**BODY, "name": "Another Program"}, who="nw_admin2")
    assert other_user.status_code == 201 and other_user.json()["name"] == "Another Program"


def test_a_refused_write_is_replayed_too(api: Api) -> None:
    taken = {**BODY, "name": "Data Science Foundations"}
    first = post(api, "dup", taken)
    assert_error(first, 409, "project_name_taken", "name")
    again = post(api, "dup", taken)
    assert (
        again.status_code == 409
        and again.json() == first.json()
        and again.headers["idempotent-replayed"] == "true"
    )


def test_permission_failures_are_not_stored(api: Api) -> None:
    assert post(api, "k", who="nw_instructor").status_code == 403
    assert api.count(IdempotencyRecord) == 0
    assert post(api, "k", who="nw_instructor").status_code == 403


def test_delete_retry_replays_instead_of_404(api: Api) -> None:
    cloud = project_id(NW, "cloud-engineering-pathway")
    path = f"/organizations/{ORG}/projects/{cloud}"
    first = api.delete(path, "nw_admin", headers={"Idempotency-Key": "del-cloud"})
    retry = api.delete(path, "nw_admin", headers={"Idempotency-Key": "del-cloud"})
    assert first.status_code == retry.status_code == 200 and retry.json() == first.json()
    assert_error(api.delete(path, "nw_admin"), 404, "not_found")


def test_in_progress_and_expired_keys(api: Api) -> None:
    with api.session() as session:
        session.add(IdempotencyRecord(user_id=user_id("nw_admin"), key="busy", request_hash="?"))
        session.commit()
    # a different request hash still says "reused"; the same request while unfinished says "in progress"
    assert_error(post(api, "busy"), 422, "idempotency_key_reused")
    first = post(api, "slow")
    assert first.status_code == 201
    api.execute("UPDATE idempotency_keys SET response_status = NULL WHERE key = 'slow'")
    assert_error(post(api, "slow"), 409, "idempotency_key_in_progress")
    with api.session() as session:  # an unfinished claim older than the timeout is taken over
        session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == "slow")
            .values(created_at=utcnow() - timedelta(minutes=5))
        )
        session.commit()
    retried = post(api, "slow")
    assert_error(retried, 409, "project_name_taken")  # it really ran again, and the project exists
    with api.session() as session:  # a key older than key_ttl_hours starts over
        session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == "slow")
            .values(created_at=utcnow() - timedelta(days=2))
        )
        session.commit()
    fresh = post(api, "slow", {**BODY, "name": "Brand New"})
    assert fresh.status_code == 201


def test_invalid_keys_are_422(api: Api) -> None:
    assert_error(post(api, "has space"), 422, "invalid_idempotency_key", "Idempotency-Key")
    assert_error(post(api, "x" * 256), 422, "invalid_idempotency_key")
    assert api.count(Project) == 5


def test_requests_without_a_valid_token_pass_through_to_401(api: Api) -> None:
    response = api.client.post(f"/api/v1{PROJECTS}", json=BODY, headers={"Idempotency-Key": "anon"})
    assert_error(response, 401, "not_authenticated")
    assert api.count(IdempotencyRecord) == 0


def test_track_enroll_retry_does_not_enroll_twice(api: Api) -> None:
    aml = api.get(
        "/tracks/", "nw_admin", params={"difficulty_level": "intermediate", "status": "active"}
    ).json()
    track = next(t for t in aml["items"] if t["name"] == "Applied Machine Learning")
    body = {"student_emails": ["hana.sato@northwind-academy.example"]}
    first = post(api, "enroll-hana", body, path=f"/tracks/{track['id']}/enroll")
    retry = post(api, "enroll-hana", json.loads(json.dumps(body)), path=f"/tracks/{track['id']}/enroll")
    assert first.json()["total_enrolled"] == 1 and retry.json() == first.json()
    assert api.get(f"/tracks/{track['id']}", "nw_admin").json()["enrollment_count"] == 3
    assert api.count(Track) == 9


def test_the_response_is_stored_before_the_client_receives_it(api: Api) -> None:
    """A client that retries the instant it has the first answer must get a replay, not 409."""
    stored_when_sent: list[int | None] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b'{"ok": true}', "more_body": False})

    async def client_side(message: Message) -> None:
        if message["type"] == "http.response.body":
            with api.session() as session:
                stored_when_sent.append(session.scalar(select(IdempotencyRecord.response_status)))

    async def receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/anything",
        "query_string": b"",
        "headers": [
            (b"authorization", f"Bearer {api.token('nw_admin')}".encode()),
            (b"idempotency-key", b"k"),
        ],
    }
    asyncio.run(IdempotencyMiddleware(app, api.context)(scope, receive, client_side))
    assert stored_when_sent == [201]


def test_a_crashing_request_releases_its_key(api: Api) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    async def receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Message) -> None:
        raise AssertionError("nothing may be sent")

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/anything",
        "query_string": b"",
        "headers": [
            (b"authorization", f"Bearer {api.token('nw_admin')}".encode()),
            (b"idempotency-key", b"k"),
        ],
    }
    with pytest.raises(RuntimeError):
        asyncio.run(IdempotencyMiddleware(app, api.context)(scope, receive, send))
    assert api.count(IdempotencyRecord) == 0


def test_a_crash_between_the_change_and_its_stored_answer_leaves_neither(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies at the commit: no project without its answer, and the retry creates one."""

    def killed(_session: object) -> None:
        raise RuntimeError("process killed at commit")

    monkeypatch.setattr(DeferredCommitSession, "commit_for_real", killed)
    with pytest.raises(RuntimeError, match="killed"):
        post(api, "crash-1")
    assert api.count(Project, Project.name == BODY["name"]) == 0
    monkeypatch.undo()
    retried = post(api, "crash-1")
    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers
    assert post(api, "crash-1").headers["idempotent-replayed"] == "true"
    assert api.count(Project, Project.name == BODY["name"]) == 1


def test_the_change_and_its_answer_are_one_commit(api: Api) -> None:
    """A stored answer always has its resource, and a resource made under a key has its answer."""
    created = post(api, "atomic-1")
    with api.session() as session:
        record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "atomic-1"))
        assert record is not None and record.response_status == 201
        assert json.loads(record.response_body or b"{}")["id"] == created.json()["id"]


def test_a_route_that_does_not_commit_keeps_nothing(api: Api) -> None:
    """A refused write (the route raised after flushing) is undone, as it is without a key."""
    taken = {**BODY, "name": "Data Science Foundations"}
    before = api.snapshot()
    assert_error(post(api, "dup-2", taken), 409, "project_name_taken")
    after = api.snapshot()
    after.pop("idempotency_keys")
    before.pop("idempotency_keys")
    assert after == before


def test_a_removed_members_unexpired_token_replays_nothing(api: Api) -> None:
    token = api.token("nw_admin2")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "before-removal"}
    first = api.client.post(f"/api/v1{PROJECTS}", json=BODY, headers=headers)
    assert first.status_code == 201
    removed = api.delete(f"/rbac/organizations/{ORG}/members/{membership_id('nw_admin2')}", "nw_admin")
    assert removed.status_code == 200, removed.text
    replay = api.client.post(f"/api/v1{PROJECTS}", json=BODY, headers=headers)
    assert_error(replay, 401, "account_inactive")
    assert "idempotent-replayed" not in replay.headers


def test_a_key_reused_after_a_role_change_is_not_replayed(api: Api) -> None:
    first = post(api, "role-change", who="nw_admin2")
    assert first.status_code == 201
    api.execute(
        "UPDATE memberships SET role_type = 'instructor' WHERE id = :id",
        id=membership_id("nw_admin2").hex,
    )
    stale = api.client.post(
        f"/api/v1{PROJECTS}",
        json=BODY,
        headers={
            "Authorization": f"Bearer {api.token('nw_admin2', role='organization_admin')}",
            "Idempotency-Key": "role-change",
        },
    )
    assert_error(stale, 401, "token_stale")
    as_instructor = post(api, "role-change", who="nw_admin2")
    assert as_instructor.status_code in (403, 422) and "idempotent-replayed" not in as_instructor.headers


def test_deeply_nested_json_with_a_key_is_400(api: Api) -> None:
    deep = "[" * 50_000 + "]" * 50_000
    response = api.client.post(
        f"/api/v1{PROJECTS}",
        content=deep.encode(),
        headers=api.headers("nw_admin", **{"Idempotency-Key": "deep", "Content-Type": "application/json"}),
    )
    assert response.status_code == 400, response.text
    assert response.json()["rule"] in {"body_too_deep", "bad_request"}
    without_key = api.client.post(
        f"/api/v1{PROJECTS}",
        content=deep.encode(),
        headers=api.headers("nw_admin", **{"Content-Type": "application/json"}),
    )
    assert without_key.status_code == 400, without_key.text
    assert api.count(IdempotencyRecord) == 0
