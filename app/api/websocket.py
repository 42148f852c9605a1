"""`/ws/ai-assistant`: the platform's chat widget on a WebSocket.

A connection authenticates with the platform's bearer token (`?token=`, an Authorization header,
or a first `init` frame's `auth_token`; none or a bad one: close code 4401), follows one
conversation (new, or the one it names), and gets every event of that conversation's turns as
frames (see frames.py), whoever started the turn: this socket, the dashboard, another worker.
It sends `user_message`, `approve_action` / `reject_action` / `edit_action`, `cancel`,
`clear_history`, `resume` and `ping`. A disconnect is not a cancel: the turn goes on and a client
that reconnects with its conversation id and the last sequence number it saw gets what it missed,
then the live stream. Bad frames (not JSON, binary, too large, unknown) get an `error` frame and
the socket stays open.

All blocking work (the store, the platform, starting a turn) runs in threads, so one event loop
serves many sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import uuid
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from app.actions.service import ActionError
from app.api.auth import AuthError
from app.api.frames import FrameWriter
from app.api.state import AssistantState
from app.conversation.follower import Follower
from app.permissions.policy import UserContext
from app.providers.registry import provider_mode_label
from app.store import TurnBusyError

log = logging.getLogger(__name__)

UNAUTHORIZED = 4401
INIT_TIMEOUT_S = 10.0
POLL_S = 1.0  # without a Redis bridge, how often turns run by other processes are read from the store


class Session:
    def __init__(self, ws: WebSocket, state: AssistantState) -> None:
        self.ws = ws
        self.state = state
        self.services = state.services
        self.user: UserContext | None = None
        self.conversation_id = ""
        self.page: dict[str, Any] = {}
        self.follower: Follower | None = None
        self.writer = FrameWriter()
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.loop = asyncio.get_running_loop()
        self._unsubscribe: Any = None
        self._watching = ""
        self._send_lock = asyncio.Lock()

    # --- lifecycle -----------------------------------------------------------------------------
    async def run(self) -> None:
        await self.ws.accept()
        first: dict[str, Any] | None = None
        token = self.ws.query_params.get("token") or self.ws.headers.get("authorization")
        if not token:
            first = await self._first_frame()
            if first is None:
                return
            token = str(first.get("auth_token") or "")
        try:
            self.user = await asyncio.to_thread(self.state.auth.user, token)
        except AuthError as exc:
            await self.ws.close(code=UNAUTHORIZED, reason=str(exc)[:120])
            return
        init = first if first and first.get("type") == "init" else {}
        wanted = str(init.get("conversation_id") or self.ws.query_params.get("conversation_id") or "")
        last = _int(init.get("last_seq", self.ws.query_params.get("last_seq")))
        self.page = _page(init.get("user_context") or {})
        await self._follow(wanted, last)
        receiver = asyncio.create_task(self._receive())
        sender = asyncio.create_task(self._forward())
        try:
            await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (receiver, sender):
                task.cancel()
            if self._unsubscribe:
                self._unsubscribe()
            self._unwatch()

    async def _first_frame(self) -> dict[str, Any] | None:
        """Without a token on the URL or in a header, the first frame must be `init` with one."""
        try:
            raw = await asyncio.wait_for(self.ws.receive_text(), INIT_TIMEOUT_S)
            frame = json.loads(raw)
        except (TimeoutError, ValueError, KeyError, WebSocketDisconnect, RuntimeError):
            frame = None
        if not isinstance(frame, dict) or not frame.get("auth_token"):
            with contextlib.suppress(RuntimeError):
                await self.ws.close(
                    code=UNAUTHORIZED, reason="send a token: ?token=, Authorization, or init.auth_token"
                )
            return None
        return frame

    async def _follow(self, conversation_id: str, last_seq: int) -> None:
        """Follow a conversation of this user's (a new one when none or someone else's is named)."""
        assert self.user is not None
        user = self.user
        conv = (
            await asyncio.to_thread(self.services.store.conversations.get, conversation_id)
            if conversation_id
            else None
        )
        resumed = conv is not None and conv.user_id == user.user_id
        if not resumed:
            conversation_id, last_seq = str(uuid.uuid4()), 0  # created with its first message
        if self._unsubscribe:
            self._unsubscribe()
        self._unwatch()
        self.conversation_id = conversation_id
        if not self.services.bus.bridged:
            self.state.watch.watch(conversation_id)
            self._watching = conversation_id
        self.follower = Follower(self.services.runner, conversation_id, last_seq)
        self.writer = FrameWriter()
        self._unsubscribe = self.services.bus.subscribe(conversation_id, self._on_event)
        await self.send({
            "type": "connected", "conversation_id": conversation_id, "turn_id": None, "seq": last_seq,
            "resumed": resumed, "mode": provider_mode_label(self.services.settings, self.services.provider_name),
            "worker": os.getpid(),
            "user": {"user_id": user.user_id, "name": user.full_name, "email": user.email, "role": user.role,
                     "organization_id": user.organization_id},
        })  # fmt: skip
        if resumed:
            missed = await asyncio.to_thread(self.follower.missed)
            for event in missed:
                await self._send_event(event)
            await self.send({"type": "resumed", "conversation_id": conversation_id, "turn_id": None,
                             "seq": self.follower.last_seq, "replayed": len(missed)})  # fmt: skip

    def _unwatch(self) -> None:
        if self._watching:
            self.state.watch.unwatch(self._watching)
            self._watching = ""

    def _on_event(self, event: dict[str, Any]) -> None:
        """From the runner's thread (or the Redis listener): hand the event to this socket's loop."""
        with contextlib.suppress(RuntimeError):  # the loop closed: the socket is gone
            self.loop.call_soon_threadsafe(self.queue.put_nowait, event)

    # --- to the client -------------------------------------------------------------------------
    async def send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_text(json.dumps(frame, default=str))

    async def _send_event(self, event: dict[str, Any]) -> None:
        for frame in self.writer.frames(event):
            await self.send(frame)

    async def _forward(self) -> None:
        """Send the followed conversation's events once each, in order; read the store when idle.

        Everything queued meanwhile goes out together, and a run of text deltas of one turn is one
        `response_delta` frame (numbered with its last event): under load, fewer and larger frames.
        """
        while True:
            try:
                batch = [await asyncio.wait_for(self.queue.get(), POLL_S)]
            except TimeoutError:
                follower = self.follower
                # Without Redis, turns of other processes show only in the store; the shared watch
                # says when this conversation has events this socket has not sent.
                if (
                    self._watching
                    and follower is not None
                    and self.state.watch.latest(self._watching) > follower.last_seq
                ):
                    for missed in await asyncio.to_thread(follower.missed):
                        await self._send_event(missed)
                continue
            while not self.queue.empty():
                batch.append(self.queue.get_nowait())
            ordered: list[dict[str, Any]] = []
            for event in batch:
                if event.get("conversation_id") != self.conversation_id or self.follower is None:
                    continue
                follower = self.follower
                seq = int(event.get("seq") or 0)
                if seq == follower.last_seq + 1:  # the usual case: next in line, no store needed
                    follower.last_seq = seq
                    ordered.append(event)
                elif seq > follower.last_seq:
                    ordered.extend(await asyncio.to_thread(follower.accept, event))
            for event in coalesce(ordered):
                await self._send_event(event)

    async def error(self, content: str, code: str, **extra: Any) -> None:
        await self.send({"type": "error", "conversation_id": self.conversation_id, "turn_id": None, "seq": None,
                         "content": content, "code": code, **extra})  # fmt: skip

    # --- from the client -----------------------------------------------------------------------
    async def _receive(self) -> None:
        limit = self.services.settings.ws_max_frame_kb * 1024
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                await self.error("Binary frames are not accepted; send JSON text.", "bad_frame")
                continue
            raw = message.get("text") or ""
            if len(raw.encode("utf-8", errors="replace")) > limit:
                await self.error(
                    f"The frame is larger than {limit // 1024} KB; nothing was done.", "frame_too_large"
                )
                continue
            try:
                frame = json.loads(raw)
            except ValueError:
                await self.error("The frame is not JSON; nothing was done.", "bad_frame")
                continue
            if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
                await self.error('A frame is a JSON object with a "type".', "bad_frame")
                continue
            try:
                await self._handle(frame)
            except Exception:  # a bug must not close the socket: say so, log it, go on
                log.exception("frame %s failed", frame.get("type"))
                await self.error(
                    "The assistant failed to handle that; nothing was lost. Try again.", "internal"
                )

    async def _handle(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        assert self.user is not None
        if kind == "ping":
            await self.send(
                {"type": "pong", "conversation_id": self.conversation_id, "turn_id": None, "seq": None}
            )
        elif kind == "init":  # already signed in: a page change, or a switch of conversation
            self.page = _page(frame.get("user_context") or {}) or self.page
            if frame.get("conversation_id") and frame.get("conversation_id") != self.conversation_id:
                await self._follow(str(frame["conversation_id"]), _int(frame.get("last_seq")))
        elif kind == "resume":
            await self._follow(str(frame.get("conversation_id") or ""), _int(frame.get("last_seq")))
        elif kind == "user_message":
            await self._user_message(frame)
        elif kind in ("approve_action", "reject_action", "edit_action"):
            await self._decide(kind, frame)
        elif kind == "cancel":
            running = await asyncio.to_thread(self.services.store.turns.running, self.conversation_id)
            if running is None:
                await self.error("Nothing is running in this conversation.", "nothing_running")
            else:
                await asyncio.to_thread(self.services.runner.cancel, running.id)
        elif kind == "clear_history":
            await self._follow("", 0)
            await self.send(
                {
                    "type": "history_cleared",
                    "conversation_id": self.conversation_id,
                    "turn_id": None,
                    "seq": 0,
                }
            )
        else:
            await self.error(f"Unknown frame type {kind[:40]!r}.", "unknown_type")

    async def _user_message(self, frame: dict[str, Any]) -> None:
        content = frame.get("content")
        if not isinstance(content, str) or not content.strip():
            await self.error('A user_message needs its text in "content".', "bad_frame")
            return
        page = _page(frame.get("context") or {}) or self.page  # the design note's widget sends context here
        user, cid, services = self.user, self.conversation_id, self.services
        assert user is not None

        def start() -> None:
            if services.store.conversations.get(cid) is None:
                services.store.conversations.create(
                    user.user_id, user.organization_id, conversation_id=cid,
                    provider=services.provider.name, model=services.provider.model,
                )  # fmt: skip
            services.runner.send(services.turn_deps(), cid, user, content, page_context=page)

        try:
            await asyncio.to_thread(start)
        except TurnBusyError as exc:
            await self.error(
                str(exc) + " Wait for it, or send a cancel frame.", "busy", running_turn_id=exc.turn_id
            )
        except LookupError as exc:
            await self.error(str(exc), "not_found")

    async def _decide(self, kind: str, frame: dict[str, Any]) -> None:
        action_id = str(frame.get("action_id") or "")
        user, services = self.user, self.services
        assert user is not None
        deps = services.turn_deps()

        def start() -> None:
            if kind == "approve_action":
                services.runner.approve(deps, user, action_id, expected_digest=frame.get("digest") or None,
                                        confirm_text=frame.get("confirm_text"))  # fmt: skip
            elif kind == "reject_action":
                services.runner.reject(deps, user, action_id, str(frame.get("reason") or ""))
            else:
                arguments = frame.get("arguments")
                if not isinstance(arguments, dict):
                    raise ActionError('edit_action needs the new "arguments" as an object.')
                services.runner.edit(deps, user, action_id, arguments)

        try:
            await asyncio.to_thread(start)
        except (ActionError, LookupError) as exc:
            await self.error(str(exc), "action_refused", action_id=action_id)
        except TurnBusyError as exc:
            await self.error(str(exc) + " Decide once it is done.", "busy", running_turn_id=exc.turn_id)


def coalesce(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs of text deltas of one turn as one delta (the text joined, the last one's number)."""
    out: list[dict[str, Any]] = []
    for event in events:
        last = out[-1] if out else None
        if (event.get("type") == "text_delta" and last is not None and last.get("type") == "text_delta"
                and last.get("turn_id") == event.get("turn_id")):  # fmt: skip
            out[-1] = {
                **last,
                "text": str(last.get("text", "")) + str(event.get("text", "")),
                "seq": event.get("seq"),
            }
        else:
            out.append(event)
    return out


def _int(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _page(context: Any) -> dict[str, Any]:
    """What the widget says about where the user is: data only (user_id, role, organization are ignored)."""
    if not isinstance(context, dict):
        return {}
    page = context.get("current_page")
    out = {k: context[k] for k in ("selected_project", "selected_track", "selected_course") if context.get(k)}
    if isinstance(page, dict):
        out["current_page"] = page.get("path") or page.get("pathname") or json.dumps(page)[:200]
    elif page:
        out["current_page"] = page
    return out


async def websocket_endpoint(ws: WebSocket) -> None:
    state: AssistantState = ws.app.state.assistant
    state.metrics.sockets.inc()
    try:
        await Session(ws, state).run()
    except WebSocketDisconnect:
        pass
    finally:
        state.metrics.sockets.dec()
