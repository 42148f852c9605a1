"""The HTTP API: a turn as JSON or server-sent events, the read model, decisions, tools, health, metrics."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from app.permissions.policy import UserContext
from app.platform.client import PlatformClient
from app.providers.scripted import ScriptedProvider, text_reply
from app.services import Services
from app.usage.usage import Usage

from .conftest import STUDENT_A

Service = Callable[..., tuple[TestClient, Services]]
API = "/api/v1/ai-assistant"


def auth(user: UserContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}


def test_every_route_needs_a_token_the_platform_accepts(service: Service) -> None:
    client, _ = service()
    for method, path in (
        ("post", f"{API}/chat"),
        ("get", f"{API}/conversations"),
        ("get", f"{API}/functions"),
    ):
        assert client.request(method, path, json={"message": "hi"}).status_code == 401
        refused = client.request(
            method, path, json={"message": "hi"}, headers={"Authorization": "Bearer nope"}
        )
        assert refused.status_code == 401 and "refused the token" in refused.json()["detail"]


def test_a_turn_as_json_then_the_read_model(service: Service, admin: UserContext, sandbox_index: Any) -> None:
    client, _ = service(index_dir=sandbox_index)
    answer = client.post(
        f"{API}/chat", json={"message": "What roles can an instructor have on a course?"}, headers=auth(admin)
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["stop"] == "end_turn" and body["response"] and body["citations"]
    assert body["citations"][0]["path"] and body["usage"]["calls"] == 1
    listed = client.get(f"{API}/conversations", headers=auth(admin)).json()
    assert body["conversation_id"] in {c["id"] for c in listed}
    view = client.get(f"{API}/conversations/{body['conversation_id']}", headers=auth(admin)).json()
    (turn,) = view["turns"]
    assert (
        turn["label"] == "What roles can an instructor have on a course?" and turn["text"] == body["response"]
    )
    assert turn["chunks"] and turn["usage"]["calls"] == 1


def test_another_users_conversation_is_not_found(
    service: Service, admin: UserContext, sign_in: Callable[..., UserContext]
) -> None:
    client, _ = service()
    cid = client.post(f"{API}/chat", json={"message": "List the projects"}, headers=auth(admin)).json()[
        "conversation_id"
    ]
    student = sign_in(STUDENT_A)
    assert client.get(f"{API}/conversations/{cid}", headers=auth(student)).status_code == 404
    assert (
        client.post(
            f"{API}/chat", json={"message": "hi", "conversation_id": cid}, headers=auth(student)
        ).status_code
        == 404
    )


def test_a_turn_as_server_sent_events(service: Service, admin: UserContext) -> None:
    client, _ = service()
    with client.stream(
        "POST", f"{API}/chat", json={"message": "List the projects", "stream": True}, headers=auth(admin)
    ) as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        frames = [json.loads(line[6:]) for line in events.iter_lines() if line.startswith("data: ")]
    kinds = [f["type"] for f in frames]
    assert kinds[0] == "turn_started" and kinds[-2:] == ["response", "done"] and "response_delta" in kinds


def test_a_proposal_decided_over_http(
    service: Service, admin: UserContext, platform: Callable[[UserContext], PlatformClient]
) -> None:
    client, _ = service()
    proposed = client.post(f"{API}/chat", json={"message": "create an advanced Haskell track in Cloud Engineering Pathway"},
                           headers=auth(admin)).json()  # fmt: skip
    (action,) = proposed["actions"]
    assert action["status"] == "pending" and action["tool"] == "create_track"
    edited = client.post(f"{API}/actions/{action['id']}/edit", headers=auth(admin),
                         json={"arguments": {**action["arguments"], "difficulty_level": "intermediate"}})  # fmt: skip
    assert edited.status_code == 200
    stale = client.post(
        f"{API}/actions/{action['id']}/approve", json={"digest": action["digest"]}, headers=auth(admin)
    )
    assert (
        stale.status_code == 200 and stale.json()["errors"][0]["code"] == "action_refused"
    )  # the digest it saw changed
    fresh = client.get(f"{API}/conversations/{proposed['conversation_id']}", headers=auth(admin)).json()[
        "actions"
    ][action["id"]]
    done = client.post(
        f"{API}/actions/{action['id']}/approve", json={"digest": fresh["digest"]}, headers=auth(admin)
    ).json()
    assert done["outcomes"][0]["ok"]
    tracks = [t for t in platform(admin).list_all("/tracks/") if t["name"] == action["arguments"]["name"]]
    assert len(tracks) == 1 and tracks[0]["difficulty_level"] == "intermediate"
    again = client.post(
        f"{API}/actions/{action['id']}/reject", json={"reason": "too late"}, headers=auth(admin)
    )
    assert again.json()["errors"][0]["code"] == "action_refused"
    assert (
        client.post(f"{API}/actions/no-such/approve", json={"digest": "x"}, headers=auth(admin)).status_code
        == 404
    )
    undigested = client.post(f"{API}/actions/{action['id']}/approve", json={}, headers=auth(admin))
    assert undigested.status_code == 422 and "digest" in undigested.text


def test_functions_are_the_tools_of_the_users_role(
    service: Service, admin: UserContext, sign_in: Callable[..., UserContext]
) -> None:
    client, _ = service()
    admin_tools = {t["name"]: t for t in client.get(f"{API}/functions", headers=auth(admin)).json()}
    student_tools = {
        t["name"] for t in client.get(f"{API}/functions", headers=auth(sign_in(STUDENT_A))).json()
    }
    assert "delete_project" in admin_tools and admin_tools["delete_project"]["risk"] == "destructive"
    assert admin_tools["create_track"]["input_schema"]["properties"]["difficulty_level"]["enum"] == [
        "beginner",
        "intermediate",
        "advanced",
    ]
    assert "delete_project" not in student_tools and "search_docs" in student_tools


def test_a_malformed_request_is_a_clear_422(service: Service, admin: UserContext) -> None:
    client, _ = service()
    for body in ({}, {"message": ""}, {"message": "x" * 9000}, {"message": 42}):
        assert client.post(f"{API}/chat", json=body, headers=auth(admin)).status_code == 422


def test_health_and_metrics(service: Service, admin: UserContext) -> None:
    provider = ScriptedProvider(model="claude-sonnet-5-5").enqueue(
        text_reply(
            "Three projects.",
            usage=Usage(input_tokens=1000, output_tokens=40, cache_read_tokens=3000, requests=1),
        )
    )
    client, services = service(provider)
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["platform_base_url"] == services.platform_base_url
    assert health["store"] == "sqlite" and health["events_across_processes"] is False and "index" in health
    assert health["worker"] == os.getpid()  # the test client serves in this process
    client.post(f"{API}/chat", json={"message": "hello"}, headers=auth(admin))
    with client.websocket_connect(f"/ws/ai-assistant?token={admin.token}") as ws:
        ws.receive_json()
        text = client.get("/metrics").text
        assert "assistant_open_websockets 1.0" in text
    assert 'assistant_turns_total{kind="message",stop="end_turn"} 1.0' in text
    labels = 'gen_ai_operation_name="chat",gen_ai_provider_name="scripted",gen_ai_request_model="claude-sonnet-5-5"'
    usage_sum = "gen_ai_client_token_usage_sum"
    assert f'{usage_sum}{{{labels},gen_ai_token_type="input"}} 4000.0' in text  # cache reads are input too
    assert f'{usage_sum}{{{labels},gen_ai_token_type="cache_read"}} 3000.0' in text
    assert f'{usage_sum}{{{labels},gen_ai_token_type="output"}} 40.0' in text
    # $2/M input, $10/M output, $0.10/M cache read: 0.002 + 0.0004 + 0.0003
    cost = 'assistant_cost_usd_total{gen_ai_provider_name="scripted",gen_ai_request_model="claude-sonnet-5-5"} 0.0027'
    assert cost in text
    assert "assistant_time_to_first_token_seconds_count 1.0" in text


def test_openapi_docs_are_served(service: Service) -> None:
    client, _ = service()
    spec: dict[str, Any] = client.get("/openapi.json").json()
    assert {f"{API}/chat", f"{API}/conversations/{{conversation_id}}", f"{API}/actions/{{action_id}}/approve",
            f"{API}/functions", "/health", "/metrics"} <= set(spec["paths"])  # fmt: skip
    assert client.get("/docs").status_code == 200
    assert client.get("/static/ai-assistant.js").text.startswith("/*")
    assert "AIAssistant" in client.get("/widget-demo").text
