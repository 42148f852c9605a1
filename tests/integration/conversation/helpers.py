"""Small helpers the conversation scenarios share."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TypeVar

from app.conversation import events as ev
from app.permissions.policy import UserContext
from app.platform.client import PlatformClient
from app.providers.base import ModelRequest, ToolResultBlock
from app.services import Services

E = TypeVar("E", bound=ev.Event)


def collect(events: Iterable[ev.Event]) -> list[ev.Event]:
    out = list(events)
    assert out and isinstance(out[-1], ev.Done), f"a stream must end with Done: {out[-1:]}"
    return out


def of(events: list[ev.Event], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def one(events: list[ev.Event], kind: type[E]) -> E:
    found = of(events, kind)
    assert len(found) == 1, f"expected one {kind.__name__}, got {found}"
    return found[0]


def text_of(events: list[ev.Event]) -> str:
    return "".join(e.text for e in of(events, ev.TextDelta))


def done(events: list[ev.Event]) -> ev.Done:
    last = events[-1]
    assert isinstance(last, ev.Done)
    return last


def project_id(client: PlatformClient, user: UserContext, name: str) -> str:
    rows = client.list_all(f"/organizations/{user.organization_id}/projects")
    return str(next(r["id"] for r in rows if r["name"] == name))


def tracks_named(client: PlatformClient, name: str, project: str | None = None) -> list[dict[str, Any]]:
    return [t for t in client.list_all("/tracks/", project_id=project) if t["name"] == name]


def last_tool_results(request: ModelRequest) -> list[ToolResultBlock]:
    return [b for b in request.messages[-1].content if isinstance(b, ToolResultBlock)]


def found_id(request: ModelRequest) -> str:
    """The id in the find_* result the model was just given."""
    (result,) = last_tool_results(request)
    return str(json.loads(result.content)[0]["id"])


def new_conversation(services: Services, user: UserContext) -> str:
    return services.store.conversations.create(user.user_id, user.organization_id).id


def bare(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Anthropic `messages` without their cache breakpoints, to compare content alone."""
    return [
        {
            **m,
            "content": [{k: v for k, v in b.items() if k != "cache_control"} for b in m["content"]],
        }
        for m in messages
    ]


def is_turn_context(block: dict[str, Any]) -> bool:
    """The facts block the app puts in front of each of the user's messages."""
    return block.get("type") == "text" and str(block.get("text", "")).startswith("<turn_context>")
