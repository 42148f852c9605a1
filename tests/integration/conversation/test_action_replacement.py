"""A proposal that replaces a waiting one (replaces_action_id), with any model: the earlier one
ends expired with the reason and cannot be approved; only the user's own waiting action of the
same conversation can be replaced."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.actions.service import ActionError
from app.conversation import decisions
from app.conversation import events as ev
from app.conversation.turn import run_turn
from app.providers.scripted import ScriptedProvider, tool_reply
from app.services import Services
from tests.integration.conversation.conftest import ADMIN_A
from tests.integration.conversation.helpers import collect, new_conversation, one, project_id


class Chat:
    def __init__(self, make_services: Callable[..., Services], sign_in: Any, platform: Any) -> None:
        self.admin = sign_in(ADMIN_A)
        self.cloud = project_id(platform(self.admin), self.admin, "Cloud Engineering Pathway")
        self.provider = ScriptedProvider()
        self.services = make_services(self.provider)
        self.cid = new_conversation(self.services, self.admin)

    def propose(
        self, name: str, level: str, replaces: str | None = None, cid: str | None = None
    ) -> list[ev.Event]:
        args: dict[str, Any] = {"project_id": self.cloud, "name": name, "difficulty_level": level}
        if replaces:
            args["replaces_action_id"] = replaces
        self.provider.enqueue(tool_reply("create_track", args))
        deps = self.services.turn_deps()
        return collect(run_turn(deps, cid or self.cid, self.admin, f"create {name}"))


@pytest.fixture
def chat(make_services: Callable[..., Services], sign_in: Any, platform: Any) -> Chat:
    return Chat(make_services, sign_in, platform)


def test_a_replaced_proposal_is_expired_with_its_reason_and_cannot_be_approved(chat: Chat) -> None:
    first = one(chat.propose("Replaced Track", "beginner"), ev.ActionProposed)
    second = one(chat.propose("Replaced Track", "advanced", replaces=first.action_id), ev.ActionProposed)
    assert "replaces_action_id" not in second.arguments  # never an argument: not stored, digested or sent
    old = chat.services.store.actions.require(first.action_id)
    assert old.status == "expired" and old.reason and second.action_id in old.reason
    events = [e.event for e in chat.services.store.audit.list(action_id=first.action_id, newest_first=False)]
    assert events == ["proposed", "expired"]
    refused = collect(
        decisions.approve(
            chat.services.turn_deps(), chat.admin, first.action_id, expected_digest=first.digest
        )
    )
    assert "expired" in one(refused, ev.ErrorEvent).message
    assert chat.services.store.actions.require(second.action_id).status == "pending"


def test_only_a_waiting_action_of_the_same_conversation_is_replaced(chat: Chat) -> None:
    other_conversation = new_conversation(chat.services, chat.admin)
    elsewhere = one(chat.propose("Elsewhere Track", "beginner", cid=other_conversation), ev.ActionProposed)
    here = one(chat.propose("Here Track", "beginner", replaces=elsewhere.action_id), ev.ActionProposed)
    assert chat.services.store.actions.require(elsewhere.action_id).status == "pending"
    assert chat.services.store.actions.require(here.action_id).status == "pending"

    rejected = one(chat.propose("Decided Track", "beginner"), ev.ActionProposed)
    chat.services.actions.reject(chat.admin, rejected.action_id, "no")
    again = one(chat.propose("Decided Track", "advanced", replaces=rejected.action_id), ev.ActionProposed)
    assert chat.services.store.actions.require(rejected.action_id).status == "rejected"  # left as decided
    assert chat.services.store.actions.require(again.action_id).status == "pending"
    with pytest.raises(ActionError):
        chat.services.actions.reject(chat.admin, rejected.action_id, "twice")
