"""Permissions and organization scoping, enforced by the assistant before the platform sees a write.

A student is never offered a destructive tool, and calling one anyway is refused; an admin of
organization A cannot reach a resource of organization B, whatever the model says; and the
assistant's own organization check holds even when the platform's answer says otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.conversation import decisions
from app.conversation import events as ev
from app.conversation.turn import run_turn
from app.providers.anthropic_provider import AnthropicProvider
from app.providers.scripted import ScriptedProvider, tool_reply
from app.tools.catalog import default_registry
from tests.fakes import anthropic_server as fa
from tests.integration.conversation.conftest import ADMIN_A, ADMIN_B, STUDENT_A
from tests.integration.conversation.helpers import (
    collect,
    last_tool_results,
    new_conversation,
    of,
    one,
    project_id,
    tracks_named,
)


def test_a_student_asking_to_delete_a_project_is_offered_no_such_tool_and_refused(
    anthropic_server: fa.FakeAnthropicServer, make_services: Callable[..., Any], sign_in: Any, platform: Any
) -> None:
    admin, student = sign_in(ADMIN_A), sign_in(STUDENT_A)
    dsf = project_id(platform(admin), admin, "Data Science Foundations")
    anthropic_server.enqueue(
        fa.reply_tool_use("delete_project", {"project_id": dsf}, id="toolu_delete"),  # it tries anyway
        fa.reply_text("Your role cannot delete projects; an organization admin can."),
    )
    provider = AnthropicProvider("k", "claude-sonnet-5-5", base_url=anthropic_server.base_url, max_retries=0)
    services = make_services(provider)
    cid = new_conversation(services, student)

    events = collect(
        run_turn(services.turn_deps(), cid, student, "Delete the project Data Science Foundations")
    )

    offered = [t["name"] for t in anthropic_server.bodies[0]["tools"]]
    risks = {t.name: t.risk for t in default_registry()}
    assert offered and {risks[name] for name in offered} == {"read"}
    assert "delete_project" not in offered
    facts = anthropic_server.bodies[0]["messages"][0]["content"][0]["text"]
    assert facts.startswith("<turn_context>") and "role student" in facts
    refused = one(events, ev.ToolUsed)
    assert refused.tool == "delete_project" and not refused.ok
    assert "Your role (student) cannot use delete_project: it needs delete_projects" in refused.summary
    result = next(
        b for b in anthropic_server.bodies[1]["messages"][-1]["content"] if b["type"] == "tool_result"
    )
    assert result["tool_use_id"] == "toolu_delete" and result["is_error"] is True
    assert "cannot use delete_project" in result["content"]
    assert not of(events, ev.ActionProposed)
    assert services.store.actions.list() == []
    assert platform(admin).get(f"/projects/{dsf}")["name"] == "Data Science Foundations"
    provider.close()


def brightpath_resources(sign_in: Any, platform: Any) -> dict[str, str]:
    other = sign_in(ADMIN_B)
    client = platform(other)
    project = project_id(client, other, "Cybersecurity Essentials")
    track = client.list_all("/tracks/", project_id=project)[0]
    return {"project": project, "track": str(track["id"]), "org": str(other.organization_id)}


CROSS_ORG_CALLS = {
    "create_track": lambda b: {"project_id": b["project"], "name": "Smuggled Track"},
    "delete_project": lambda b: {"project_id": b["project"], "force": True},
    "publish_track": lambda b: {"track_id": b["track"]},
    "create_course": lambda b: {"title": "Smuggled Course", "track_id": b["track"]},
    "enroll_students_in_track": lambda b: {"track_id": b["track"], "student_emails": ["x@example.com"]},
}


@pytest.mark.parametrize("tool", list(CROSS_ORG_CALLS))
def test_an_admin_of_one_organization_cannot_act_on_another(
    tool: str, make_services: Callable[..., Any], sign_in: Any, platform: Any
) -> None:
    admin = sign_in(ADMIN_A)
    theirs = brightpath_resources(sign_in, platform)
    other_client = platform(sign_in(ADMIN_B))
    before = json.dumps(other_client.list_all("/tracks/"), sort_keys=True)
    provider = ScriptedProvider().enqueue(
        tool_reply(tool, CROSS_ORG_CALLS[tool](theirs)), "I cannot do that."
    )
    services = make_services(provider)
    cid = new_conversation(services, admin)

    events = collect(run_turn(services.turn_deps(), cid, admin, "Do it in Cybersecurity Essentials"))

    refusal = one(events, ev.ToolUsed)
    assert refusal.tool == tool and not refusal.ok
    assert refusal.summary.startswith("Not proposed:")
    assert not of(events, ev.ActionProposed)
    assert services.store.actions.list() == []
    (audit,) = services.store.audit.list(event="refused")
    assert audit.details["tool"] == tool and audit.user_id == admin.user_id
    # the model was told, as an error result
    (result,) = [b for b in last_tool_results(provider.requests[1]) if b.is_error]
    assert result.content == refusal.summary
    # nothing changed in the other organization
    assert json.dumps(other_client.list_all("/tracks/"), sort_keys=True) == before
    assert other_client.get(f"/projects/{theirs['project']}")["name"] == "Cybersecurity Essentials"
    assert not [c for c in other_client.list_all("/courses") if c["title"] == "Smuggled Course"]


class MisattributingTransport(httpx.BaseTransport):
    """Real HTTP to the platform, but one project is reported as belonging to another organization."""

    def __init__(self, project: str, organization: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.project = project
        self.organization = organization
        self.rewritten = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method != "GET" or not request.url.path.endswith(f"/projects/{self.project}"):
            return response
        response.read()
        data = response.json()
        data["organization_id"] = self.organization
        self.rewritten += 1
        return httpx.Response(response.status_code, json=data)

    def close(self) -> None:
        self.inner.close()


def test_the_assistants_own_organization_check_holds_whatever_the_platform_answers(
    make_services: Callable[..., Any], sign_in: Any, platform: Any
) -> None:
    admin = sign_in(ADMIN_A)
    dsf = project_id(platform(admin), admin, "Data Science Foundations")
    elsewhere = brightpath_resources(sign_in, platform)["org"]
    args = {"project_id": dsf, "name": "Misattributed Track"}
    provider = ScriptedProvider().enqueue(
        tool_reply("create_track", args), "Refused.", tool_reply("create_track", args), "It was refused."
    )
    services = make_services(provider)
    lying = services.turn_deps()
    lying.platform_transport = MisattributingTransport(dsf, elsewhere)
    cid = new_conversation(services, admin)

    # at proposal time
    events = collect(run_turn(lying, cid, admin, "Create Misattributed Track in Data Science Foundations"))
    refusal = one(events, ev.ToolUsed)
    assert refusal.summary == (
        "Not proposed: project Data Science Foundations is not in your organization, "
        "so the assistant will not act on it."
    )
    assert lying.platform_transport.rewritten >= 1  # type: ignore[attr-defined]

    # at execution time: proposed honestly, but the fresh lookup before running disagrees
    honest = services.turn_deps()
    proposed = one(collect(run_turn(honest, cid, admin, "Try again")), ev.ActionProposed)
    outcome = collect(decisions.approve(lying, admin, proposed.action_id, expected_digest=proposed.digest))
    executed = one(outcome, ev.ActionExecuted)
    assert not executed.ok and executed.status == "failed" and not executed.retryable
    assert executed.message.startswith(
        "Refused at execution: project Data Science Foundations is not in your"
    )
    assert not of(outcome, ev.ErrorEvent) and provider.remaining == 0
    assert tracks_named(platform(admin), "Misattributed Track") == []
    lying.platform_transport.close()
