"""The WebSocket protocol: both client dialects, approvals, resume, limits and bad input."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.api import websocket as ws_module
from app.conversation.view import conversation_view
from app.permissions.policy import UserContext
from app.platform.client import PlatformClient
from app.providers.scripted import ScriptedProvider
from app.services import Services, build_services
from sandbox.server import RunningSandbox
from tests.support.providers import GatedProvider

from .conftest import STUDENT_A, frames_until

Service = Callable[..., tuple[TestClient, Services]]
RUST = "create an intermediate Rust track in Cloud Engineering Pathway"
ELIXIR = "create an advanced Elixir track in Cloud Engineering Pathway"  # one track name per test: the module shares a platform


def init(ws: Any, user: UserContext, **extra: Any) -> dict[str, Any]:
    ws.send_json({"type": "init", "auth_token": user.token, **extra})
    frame: dict[str, Any] = ws.receive_json()
    assert frame["type"] == "connected", frame
    return frame


def test_the_platform_front_ends_dialect_with_a_forged_identity_ignored(
    service: Service, admin: UserContext
) -> None:
    client, services = service()
    with client.websocket_connect("/ws/ai-assistant") as ws:
        connected = init(ws, admin, user_context={"user_id": "someone-else", "username": "root", "role": "site_admin",
                                                   "organization_id": "another-org", "current_page": "/dashboard"})  # fmt: skip
        assert (
            connected["user"]["user_id"] == admin.user_id
            and connected["user"]["role"] == "organization_admin"
        )
        assert connected["conversation_id"]
        ws.send_json({"type": "user_message", "content": "List the projects"})
        frames = frames_until(ws, "done")
    kinds = [f["type"] for f in frames]
    assert kinds[0] == "turn_started" and "thinking" in kinds and "response_delta" in kinds
    response = next(f for f in frames if f["type"] == "response")
    assert (
        "Data Science Foundations" in response["content"]
        and "Cybersecurity Essentials" not in response["content"]
    )
    assert all(f["conversation_id"] == connected["conversation_id"] and f["turn_id"] for f in frames)
    seqs = [f["seq"] for f in frames if f["type"] not in ("response",)]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    conv = services.store.conversations.get(connected["conversation_id"])
    assert conv is not None and conv.user_id == admin.user_id  # stored as the real user's


def test_the_design_notes_dialect_through_an_approval(
    service: Service, admin: UserContext, platform: Callable[[UserContext], PlatformClient]
) -> None:
    client, _ = service()
    with client.websocket_connect(f"/ws/ai-assistant?token={admin.token}") as ws:
        assert ws.receive_json()["type"] == "connected"
        ws.send_json({"type": "user_message", "content": RUST, "user_id": "forged", "organization_id": "forged",
                      "context": {"current_page": "/projects", "selected_project": "p1", "user_role": "site_admin"}})  # fmt: skip
        frames = frames_until(ws, "done")
        proposal = next(f for f in frames if f["type"] == "action_proposed")
        assert (
            proposal["preview"]
            == "Create track 'Intermediate Rust' (intermediate) in project Cloud Engineering Pathway"
        )
        assert proposal["digest"] and not proposal["needs_typed_name"]
        assert any(
            c["field"] == "tracks" for c in proposal["changes"]
        )  # what it will change, before and after
        ws.send_json(
            {"type": "approve_action", "action_id": proposal["action_id"], "digest": proposal["digest"]}
        )
        after = frames_until(ws, "done")
    executed = next(f for f in after if f["type"] == "action_executed")
    assert executed["ok"] and executed["action"] == "create_track" and "Created track" in executed["result"]
    response = next(f for f in after if f["type"] == "response")
    assert response["function_call"] == "create_track" and response["action_success"] is True
    tracks = [t for t in platform(admin).list_all("/tracks/") if t["name"] == "Intermediate Rust"]
    assert len(tracks) == 1


def test_page_context_reaches_the_model_as_data(service: Service, admin: UserContext) -> None:
    provider = ScriptedProvider().enqueue("Noted.")
    client, _ = service(provider)
    with client.websocket_connect(f"/ws/ai-assistant?token={admin.token}") as ws:
        ws.receive_json()
        ws.send_json({"type": "user_message", "content": "what is on this page?",
                      "context": {"current_page": "/projects/p-42", "selected_project": "p-42", "user_role": "site_admin"}})  # fmt: skip
        frames_until(ws, "done")
    sent = provider.last_request.messages[-1].to_dict()["content"]
    text = " ".join(b.get("text", "") for b in sent)
    assert (
        "<page_context>" in text
        and "current_page: /projects/p-42" in text
        and "selected_project: p-42" in text
    )
    assert "site_admin" not in text  # a claimed role is not passed on, let alone trusted
    assert provider.last_request.metadata["user"]["role"] == "organization_admin"


@pytest.mark.parametrize("how", ["query", "header", "init"])
def test_a_bad_token_closes_with_4401(service: Service, how: str) -> None:
    client, _ = service()
    url = "/ws/ai-assistant" + ("?token=not-a-token" if how == "query" else "")
    headers = {"authorization": "Bearer not-a-token"} if how == "header" else {}
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(url, headers=headers) as ws:
        if how == "init":
            ws.send_json({"type": "init", "auth_token": "not-a-token"})
        ws.receive_json()
    assert closed.value.code == 4401 and "refused the token" in closed.value.reason


def test_no_token_at_all_closes_with_4401(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws_module, "INIT_TIMEOUT_S", 0.3)
    client, _ = service()
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/ws/ai-assistant") as ws:
        ws.send_json({"type": "user_message", "content": "hi"})  # not an init with a token
        ws.receive_json()
    assert closed.value.code == 4401
    with pytest.raises(WebSocketDisconnect) as silent, client.websocket_connect("/ws/ai-assistant") as ws:
        ws.receive_json()  # says nothing: closed after the init timeout
    assert silent.value.code == 4401


def test_an_expired_token_closes_with_4401(
    service: Service, admin: UserContext, sandbox: RunningSandbox
) -> None:
    client, _ = service()
    claims = {"user_id": admin.user_id, "role": admin.role, "organization_id": admin.organization_id,
              "exp": int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())}  # fmt: skip
    expired = jwt.encode(claims, sandbox.context.jwt_secret, algorithm="HS256")
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(f"/ws/ai-assistant?token={expired}") as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 4401


def test_bad_frames_get_an_error_and_the_socket_stays_usable(service: Service, admin: UserContext) -> None:
    client, services = service(ws_max_frame_kb=4)
    with client.websocket_connect(f"/ws/ai-assistant?token={admin.token}") as ws:
        ws.receive_json()
        ws.send_text("{not json")
        assert ws.receive_json()["code"] == "bad_frame"
        ws.send_bytes(b"\x00\x01binary")
        assert ws.receive_json()["code"] == "bad_frame"
        ws.send_json({"type": "user_message", "content": "x" * 5000})
        assert ws.receive_json()["code"] == "frame_too_large"
        ws.send_json(["a", "list"])
        assert ws.receive_json()["code"] == "bad_frame"
        ws.send_json({"type": "launch_missiles"})
        assert ws.receive_json()["code"] == "unknown_type"
        ws.send_json({"type": "user_message", "content": "   "})
        assert ws.receive_json()["code"] == "bad_frame"
        ws.send_json({"type": "approve_action", "action_id": "no-such-action"})
        assert ws.receive_json()["code"] == "action_refused"
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong"
        ws.send_json({"type": "user_message", "content": "List the projects"})
        assert any(f["type"] == "response" for f in frames_until(ws, "done"))
    assert (
        services.store.turns.count(next(iter(services.store.conversations.list_for_user(admin.user_id))).id)
        == 1
    )


def test_a_second_message_while_one_runs_is_refused_and_cancel_stops_it(
    service: Service, admin: UserContext
) -> None:
    provider = GatedProvider(["Working "], ["done."])
    client, services = service(provider)
    with client.websocket_connect(f"/ws/ai-assistant?token={admin.token}") as ws:
        cid = ws.receive_json()["conversation_id"]
        ws.send_json({"type": "user_message", "content": "first"})
        frames_until(ws, "response_delta")
        ws.send_json({"type": "user_message", "content": "second"})
        busy = frames_until(ws, "error")[-1]
        assert busy["code"] == "busy" and busy["running_turn_id"]
        ws.send_json({"type": "cancel"})
        time.sleep(0.6)
        provider.gate.set()
        ends = frames_until(ws, "done")
    assert ends[-1]["stop"] == "cancelled"
    view = conversation_view(services.store, cid)
    assert (
        view is not None
        and [t.label for t in view.turns] == ["first"]
        and view.turns[0].status == "cancelled"
    )


def test_a_reconnect_resumes_from_the_last_frame_seen(service: Service, admin: UserContext) -> None:
    client, _ = service()
    with client.websocket_connect(f"/ws/ai-assistant?token={admin.token}") as ws:
        cid = ws.receive_json()["conversation_id"]
        ws.send_json({"type": "user_message", "content": "How do I enroll students in a track?"})
        seen = frames_until(ws, "context")  # the client drops here, mid-turn
    last = max(f["seq"] for f in seen)
    time.sleep(1.0)  # the turn goes on without it (a disconnect is not a cancel)
    with client.websocket_connect(
        f"/ws/ai-assistant?token={admin.token}&conversation_id={cid}&last_seq={last}"
    ) as ws:
        connected = ws.receive_json()
        assert connected["resumed"] and connected["conversation_id"] == cid
        replay = frames_until(ws, "resumed")
        ws.send_json({"type": "user_message", "content": "List the projects"})
        more = frames_until(ws, "done")
    replayed = [f["seq"] for f in replay if f["type"] not in ("resumed", "response")]
    assert replayed[0] == last + 1 and replayed == list(
        range(last + 1, last + 1 + len(replayed))
    )  # nothing lost or twice
    assert any(f["type"] == "done" for f in replay)  # the interrupted turn's end
    assert min(f["seq"] for f in more if f["type"] != "response") == replayed[-1] + 1


def test_a_decision_made_elsewhere_reaches_a_connected_socket(service: Service, admin: UserContext) -> None:
    client, services = service()
    with client.websocket_connect(f"/ws/ai-assistant?token={admin.token}") as ws:
        cid = ws.receive_json()["conversation_id"]
        ws.send_json({"type": "user_message", "content": ELIXIR})
        proposal = next(f for f in frames_until(ws, "done") if f["type"] == "action_proposed")
        # the dashboard (same process here) approves it
        live = services.runner.approve(
            services.turn_deps(), admin, proposal["action_id"], expected_digest=proposal["digest"]
        )
        assert live.wait(30)
        frames = frames_until(ws, "done")
    assert any(f["type"] == "action_executed" and f["ok"] for f in frames)
    assert frames[0]["type"] == "turn_started" and frames[0]["label"].startswith("Approved:")
    assert all(f["conversation_id"] == cid for f in frames)


def test_a_turn_run_by_another_process_is_read_from_the_store(
    service: Service, admin: UserContext, tmp_path: Any
) -> None:
    """Without Redis, a socket sees turns another process (the dashboard) ran, through the store."""
    client, services = service()
    other = build_services(
        services.settings, provider=services.provider, platform_base_url=services.platform_base_url
    )
    assert other.bus is not services.bus  # its own bus: nothing of its events reaches this one directly
    try:
        with client.websocket_connect(f"/ws/ai-assistant?token={admin.token}") as ws:
            cid = ws.receive_json()["conversation_id"]
            ws.send_json({"type": "user_message", "content": "List the projects"})
            frames_until(ws, "done")
            live = other.runner.send(other.turn_deps(), cid, admin, "how many tracks are there?")
            assert live.wait(30)
            frames = frames_until(ws, "done")
        assert frames[0]["type"] == "turn_started" and frames[0]["label"] == "how many tracks are there?"
    finally:
        other.close()


def test_clear_history_starts_a_new_conversation(service: Service, admin: UserContext) -> None:
    client, services = service()
    with client.websocket_connect(f"/ws/ai-assistant?token={admin.token}") as ws:
        first = ws.receive_json()["conversation_id"]
        ws.send_json({"type": "user_message", "content": "List the projects"})
        frames_until(ws, "done")
        ws.send_json({"type": "clear_history"})
        frames = frames_until(ws, "history_cleared")
    new = frames[-1]["conversation_id"]
    assert new != first and services.store.conversations.get(first) is not None  # kept, not deleted


def test_a_student_gets_no_approval_and_other_conversations_are_not_theirs(service: Service, sign_in: Callable[..., UserContext],
                                                                           admin: UserContext) -> None:  # fmt: skip
    client, _ = service()
    student = sign_in(STUDENT_A)
    with client.websocket_connect(f"/ws/ai-assistant?token={admin.token}") as ws:
        theirs = ws.receive_json()["conversation_id"]
        ws.send_json({"type": "user_message", "content": "List the projects"})
        frames_until(ws, "done")
    with client.websocket_connect(
        f"/ws/ai-assistant?token={student.token}&conversation_id={theirs}&last_seq=0"
    ) as ws:
        connected = ws.receive_json()
        assert (
            not connected["resumed"] and connected["conversation_id"] != theirs
        )  # not the admin's conversation
        ws.send_json({"type": "user_message", "content": "Delete the Data Science Foundations project"})
        frames = frames_until(ws, "done")
    assert not any(f["type"] == "action_proposed" for f in frames)


def test_many_sockets_follow_one_conversation(service: Service, admin: UserContext) -> None:
    client, _ = service()
    with client.websocket_connect(f"/ws/ai-assistant?token={admin.token}") as first:
        cid = first.receive_json()["conversation_id"]
        first.send_json({"type": "user_message", "content": "List the projects"})
        frames_until(first, "done")
        with client.websocket_connect(
            f"/ws/ai-assistant?token={admin.token}&conversation_id={cid}&last_seq=0"
        ) as second:
            assert second.receive_json()["resumed"]
            frames_until(second, "resumed")  # the history
            results: dict[str, list[dict[str, Any]]] = {}

            def read(name: str, ws: Any) -> None:
                results[name] = frames_until(ws, "done")

            threads = [threading.Thread(target=read, args=("second", second))]
            threads[0].start()
            first.send_json({"type": "user_message", "content": "how many tracks are there?"})
            read("first", first)
            threads[0].join(10)

    # Deltas may be coalesced differently per socket (whatever was queued goes out as one frame);
    # every other frame, the text and the last number must be the same on both.
    def shape(frames: list[dict[str, Any]]) -> tuple[list[Any], str, int]:
        others = [(f["type"], f["seq"]) for f in frames if f["type"] != "response_delta"]
        text = "".join(f["content"] for f in frames if f["type"] == "response_delta")
        return others, text, frames[-1]["seq"]

    assert shape(results["first"]) == shape(results["second"])
    assert shape(results["first"])[1]  # the answer arrived
