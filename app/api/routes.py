"""The HTTP side of the service: one turn per request (JSON, or server-sent events), the read model
of conversations, decisions on actions, the tools a user may use, health and metrics.

Every `/api/v1/ai-assistant/...` route takes the platform's bearer token in the Authorization
header; the user is who the platform says the token belongs to.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from app.actions.service import ActionError
from app.api.auth import AuthError
from app.api.frames import FrameWriter
from app.api.state import AssistantState
from app.conversation.runner import LiveTurn
from app.conversation.turn import MAX_MESSAGE_CHARS
from app.conversation.view import conversation_view
from app.permissions.policy import UserContext
from app.providers.registry import provider_mode_label
from app.store import TurnBusyError

router = APIRouter()
PREFIX = "/api/v1/ai-assistant"
TURN_TIMEOUT_S = 600


def state_of(request: Request) -> AssistantState:
    return request.app.state.assistant  # type: ignore[no-any-return]


def current_user(request: Request, authorization: Annotated[str | None, Header()] = None) -> UserContext:
    try:
        return state_of(request).auth.user(authorization)
    except AuthError as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc


User = Annotated[UserContext, Depends(current_user)]


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    conversation_id: str | None = Field(
        None, description="Continue this conversation; a new one when left out"
    )
    context: dict[str, Any] = Field(
        default_factory=dict, description="Where the user is: current_page, selected_project (data only)"
    )
    stream: bool = Field(
        False, description="Answer as server-sent events (also with Accept: text/event-stream)"
    )


class ApproveRequest(BaseModel):
    digest: str = Field(
        min_length=1, description="The digest of the arguments you saw (from action_proposed); required"
    )
    confirm_text: str | None = Field(None, description="For deletions: the resource's name, typed back")


class RejectRequest(BaseModel):
    reason: str = Field("", max_length=500)


class EditRequest(BaseModel):
    arguments: dict[str, Any]


def _turn_result(state: AssistantState, live: LiveTurn) -> dict[str, Any]:
    view = live.view()
    actions = conversation_view(state.services.store, live.conversation_id, last=1)
    return {
        "conversation_id": live.conversation_id,
        "turn_id": live.id,
        "response": view.text,
        "stop": view.stop,
        "citations": view.citations,
        "context": {"query": view.query, "chunks": view.chunks},
        "actions": [asdict(actions.actions[a]) for a in view.proposed if actions and a in actions.actions],
        "outcomes": view.outcomes,
        "errors": view.errors,
        "usage": view.usage,
    }


async def _events(live: LiveTurn) -> AsyncIterator[str]:
    writer = FrameWriter()
    queue: asyncio.Queue[Any] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def pump() -> None:
        for event in live.follow():
            loop.call_soon_threadsafe(queue.put_nowait, event.to_dict())
        loop.call_soon_threadsafe(queue.put_nowait, None)

    task = loop.run_in_executor(None, pump)
    while (event := await queue.get()) is not None:
        for frame in writer.frames(event):
            yield f"event: {frame['type']}\ndata: {json.dumps(frame, default=str)}\n\n"
    await task


async def _run(state: AssistantState, start: Any, stream: bool) -> Response:
    try:
        live: LiveTurn = await asyncio.to_thread(start)
    except TurnBusyError as exc:
        raise HTTPException(409, f"{exc} (turn {exc.turn_id})") from exc
    except (ActionError, LookupError) as exc:
        raise HTTPException(404 if "no such" in str(exc).lower() else 409, str(exc)) from exc
    if stream:
        return StreamingResponse(_events(live), media_type="text/event-stream")
    if not await asyncio.to_thread(live.wait, TURN_TIMEOUT_S):
        raise HTTPException(
            504, f"The turn is still running after {TURN_TIMEOUT_S} s; read it later from the conversation."
        )
    return JSONResponse(jsonable_encoder(_turn_result(state, live)))


@router.post(f"{PREFIX}/chat", tags=["chat"])
async def chat(body: ChatRequest, request: Request, user: User) -> Response:
    """One turn: the answer with its citations, any proposed action, and what it cost."""
    state = state_of(request)
    services = state.services
    stream = body.stream or "text/event-stream" in request.headers.get("accept", "")

    def start() -> LiveTurn:
        cid = body.conversation_id
        conv = services.store.conversations.get(cid) if cid else None
        if cid and (conv is None or conv.user_id != user.user_id):
            raise LookupError("There is no such conversation.")
        if conv is None:
            conv = services.store.conversations.create(user.user_id, user.organization_id, provider=services.provider.name,
                                                       model=services.provider.model)  # fmt: skip
        return services.runner.send(
            services.turn_deps(), conv.id, user, body.message, page_context=body.context
        )

    return await _run(state, start, stream)


@router.get(f"{PREFIX}/conversations", tags=["conversations"])
async def conversations(request: Request, user: User, limit: int = 50) -> list[dict[str, Any]]:
    found = await asyncio.to_thread(
        state_of(request).services.store.conversations.list_for_user, user.user_id, limit=min(limit, 200)
    )
    return [
        {"id": c.id, "title": c.title, "created_at": c.created_at, "updated_at": c.updated_at} for c in found
    ]


@router.get(f"{PREFIX}/conversations/{{conversation_id}}", tags=["conversations"])
async def conversation(
    conversation_id: str, request: Request, user: User, last: int | None = None
) -> dict[str, Any]:
    """The read model: turns (text, citations, context, steps, proposals, outcomes, usage) and actions."""
    store = state_of(request).services.store
    view = await asyncio.to_thread(conversation_view, store, conversation_id, last=last)
    if view is None or view.conversation.user_id != user.user_id:
        raise HTTPException(404, "There is no such conversation.")
    return {
        "conversation": asdict(view.conversation),
        "turns": [t.as_dict() for t in view.turns],
        "actions": {k: asdict(a) for k, a in view.actions.items()},
        "total_turns": view.total_turns,
        "last_seq": view.last_seq,
    }


@router.post(f"{PREFIX}/actions/{{action_id}}/approve", tags=["actions"])
async def approve(
    action_id: str, body: ApproveRequest, request: Request, user: User, stream: bool = False
) -> Response:
    state = state_of(request)
    services = state.services
    return await _run(state, lambda: services.runner.approve(
        services.turn_deps(), user, action_id, expected_digest=body.digest, confirm_text=body.confirm_text), stream)  # fmt: skip


@router.post(f"{PREFIX}/actions/{{action_id}}/reject", tags=["actions"])
async def reject(
    action_id: str, body: RejectRequest, request: Request, user: User, stream: bool = False
) -> Response:
    state = state_of(request)
    services = state.services
    return await _run(
        state, lambda: services.runner.reject(services.turn_deps(), user, action_id, body.reason), stream
    )


@router.post(f"{PREFIX}/actions/{{action_id}}/edit", tags=["actions"])
async def edit(action_id: str, body: EditRequest, request: Request, user: User) -> Response:
    state = state_of(request)
    services = state.services
    return await _run(
        state, lambda: services.runner.edit(services.turn_deps(), user, action_id, body.arguments), False
    )


@router.get(f"{PREFIX}/functions", tags=["tools"])
async def functions(request: Request, user: User) -> list[dict[str, Any]]:
    """The tools this user's role may use, as the model sees them (JSON schemas)."""
    registry = state_of(request).services.registry
    return [{"name": t.name, "description": t.spec().description, "input_schema": t.spec().input_schema,
             "risk": t.risk, "needs_approval": t.needs_approval, "permissions": list(t.permissions)}
            for t in registry.offered_to(user)]  # fmt: skip


@router.get("/health", tags=["service"])
async def health(request: Request) -> dict[str, Any]:
    services = state_of(request).services
    ready = await asyncio.to_thread(services.retrieval.available)
    return {
        "status": "ok",
        "mode": provider_mode_label(services.settings, services.provider_name),
        "index": {
            "ready": ready,
            "build": await asyncio.to_thread(services.retrieval.fingerprint) if ready else None,
        },
        "platform_base_url": services.platform_base_url,
        "store": services.store.dialect,
        "events_across_processes": services.bus.bridged,
        "worker": os.getpid(),  # which of ASSISTANT_WORKERS answered
    }


@router.get("/metrics", tags=["service"])
async def metrics(request: Request) -> Response:
    return Response(
        state_of(request).metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
