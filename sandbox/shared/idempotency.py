"""Idempotency-Key on writes: a retried request returns the first response and changes nothing.

The assistant retries a write when a response is lost (timeout, dropped connection). With the
same `Idempotency-Key` header and the same request (method, path, query and body), the sandbox
replays the stored status and body (header `Idempotent-Replayed: true`) instead of running the
write again. Keys are stored in the database (table idempotency_keys), scoped per user, and kept
for `idempotency.key_ttl_hours` (platform.yaml).

- same key, different request: 422 `idempotency_key_reused` (nothing runs);
- same key while the first request is still running: 409 `idempotency_key_in_progress`;
- responses about the caller rather than the request (401, 403, 429) and server errors (5xx)
  are not stored, so a retry after logging in again, or after a crash, really runs.
Requests whose bearer token does not stand for an active member right now (expired, removed,
role changed) pass through untouched, replay nothing, and the route answers 401 itself: a replay
passes the same authentication as a new request. The caller's role and organization are part of
the request's fingerprint, so a key reused after a role change is refused, not replayed.

The route's change and the stored answer commit in one transaction (see `unit_of_work`): a crash
between them is impossible, so a retry never finds a resource without its answer.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.shared.auth import Principal, authenticate
from sandbox.shared.body_limit import read_body, replay_body
from sandbox.shared.context import SandboxContext
from sandbox.shared.errors import ApiError, error_response
from sandbox.shared.models import IdempotencyRecord, utcnow
from sandbox.shared.unit_of_work import REQUEST_SESSION, DeferredCommitSession

HEADER = b"idempotency-key"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NOT_STORED_STATUSES = frozenset({401, 403, 429})
_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True)
class Replay:
    status: int
    body: bytes


@dataclass(frozen=True)
class Started:
    record_id: uuid.UUID


@dataclass(frozen=True)
class Refused:
    status: int
    detail: str
    rule: str


Outcome = Replay | Started | Refused


class IdempotencyStore:
    """The database side: claim a key, then record or release the response."""

    def __init__(self, context: SandboxContext) -> None:
        self.context = context

    def begin(self, user_id: uuid.UUID, key: str, request_hash: str) -> Outcome:
        """Claim (user, key) for this request, or say how an earlier claim answers it."""
        config = self.context.config.idempotency
        for _attempt in range(3):
            with self.context.session_factory() as session:
                now = utcnow()
                record = session.scalar(
                    select(IdempotencyRecord).where(
                        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
                    )
                )
                if record is not None and record.created_at < now - timedelta(hours=config.key_ttl_hours):
                    session.delete(record)
                    session.flush()
                    record = None
                if record is None:
                    record = IdempotencyRecord(user_id=user_id, key=key, request_hash=request_hash)
                    session.add(record)
                    try:
                        session.commit()
                    except IntegrityError:
                        session.rollback()
                        continue  # another request claimed the key first: look again
                    return Started(record.id)
                if record.request_hash != request_hash:
                    return Refused(
                        422,
                        "This Idempotency-Key was already used for a different request; "
                        "use a new key for a new request",
                        "idempotency_key_reused",
                    )
                if record.response_status is not None:
                    return Replay(record.response_status, record.response_body or b"")
                stale = now - timedelta(seconds=config.in_progress_timeout_seconds)
                if record.created_at < stale:
                    record.created_at = now
                    session.commit()
                    return Started(record.id)
                return Refused(
                    409,
                    "A request with this Idempotency-Key is still being processed; retry shortly",
                    "idempotency_key_in_progress",
                )
        return Refused(409, "Could not claim the Idempotency-Key; retry", "idempotency_key_in_progress")

    def open_request_session(self) -> DeferredCommitSession:
        """The session the route writes through; nothing it does is committed until `finish`."""
        return DeferredCommitSession(bind=self.context.engine, expire_on_commit=False)

    def finish(self, session: DeferredCommitSession, record_id: uuid.UUID, status: int, body: bytes) -> None:
        """Commit the route's change together with the answer to replay, or undo both.

        The route's writes are kept only if it committed them (as it would have without a key);
        an answer that must not be replayed (5xx, 401, 403, 429) releases the key instead.
        """
        try:
            if not session.commit_requested:
                session.rollback()
            if status >= 500 or status in NOT_STORED_STATUSES:
                session.rollback()
                self.release(record_id)
                return
            record = session.get(IdempotencyRecord, record_id)
            if record is None:
                session.rollback()
                return
            record.response_status = status
            record.response_body = body
            session.commit_for_real()
        finally:
            session.close()

    def abandon(self, session: DeferredCommitSession, record_id: uuid.UUID) -> None:
        """The app failed before answering: undo its writes and release the key so a retry runs."""
        try:
            session.rollback()
        finally:
            session.close()
        self.release(record_id)

    def release(self, record_id: uuid.UUID) -> None:
        with self.context.session_factory() as session:
            record = session.get(IdempotencyRecord, record_id)
            if record is not None:
                session.delete(record)
                session.commit()

    def principal(self, token: str) -> Principal | None:
        """Who the token stands for now (the check every route makes), or None."""
        with self.context.session_factory() as session:
            try:
                return authenticate(session, token, secret=self.context.jwt_secret)
            except ApiError:
                return None


class IdempotencyMiddleware:
    """Pure ASGI middleware wrapping every authenticated write that carries the header."""

    def __init__(self, app: ASGIApp, context: SandboxContext) -> None:
        self.app = app
        self.context = context
        self.store = IdempotencyStore(context)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        raw_key = headers.get(HEADER)
        token = _bearer_token(headers.get(b"authorization"))
        principal = None
        if raw_key is not None and token is not None:
            principal = await run_in_threadpool(self.store.principal, token)
        if raw_key is None or principal is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not _KEY_PATTERN.match(key):
            response = error_response(
                422,
                "Idempotency-Key must be 1-255 printable ASCII characters without spaces",
                "invalid_idempotency_key",
                "Idempotency-Key",
            )
            await response(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return
        try:
            request_hash = _request_hash(scope, body, principal)
        except RecursionError:
            response = error_response(400, "The JSON body is nested too deeply", "body_too_deep", "body")
            await response(scope, receive, send)
            return
        outcome = await run_in_threadpool(self.store.begin, principal.user_id, key, request_hash)
        if isinstance(outcome, Replay):
            await _send_replay(send, outcome)
        elif isinstance(outcome, Refused):
            response = error_response(outcome.status, outcome.detail, outcome.rule, "Idempotency-Key")
            await response(scope, receive, send)
        else:
            await self._run(scope, replay_body(body, receive), send, outcome.record_id)

    async def _run(self, scope: Scope, receive: Receive, send: Send, record_id: uuid.UUID) -> None:
        """Run the request, store its response, and only then send it.

        Storing first matters: a client that retries the moment it has the first response must
        find it stored, not still "in progress". The body is buffered (API responses are small JSON).
        """
        start: Message | None = None
        chunks: list[bytes] = []
        stored = False

        async def store_then_send(message: Message) -> None:
            nonlocal start, stored
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            await run_in_threadpool(self.store.finish, session, record_id, int(start["status"]), body)
            stored = True
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": False})

        session = self.store.open_request_session()
        owner = REQUEST_SESSION.set(session)
        try:
            await self.app(scope, receive, store_then_send)
        finally:
            REQUEST_SESSION.reset(owner)
            if not stored:
                await run_in_threadpool(self.store.abandon, session, record_id)


def _bearer_token(authorization: bytes | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _canonical_body(body: bytes) -> bytes:
    """JSON bodies compare by content, so a retry that re-serializes with another key order matches."""
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        return body


def _request_hash(scope: Scope, body: bytes, principal: Principal) -> str:
    digest = hashlib.sha256()
    parts = (
        scope["method"].encode(),
        scope["path"].encode(),
        scope.get("query_string", b""),
        f"{principal.role}|{principal.organization_id}".encode(),
    )
    for part in (*parts, _canonical_body(body)):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


async def _send_replay(send: Send, replay: Replay) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": replay.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(replay.body)).encode()),
                (b"idempotent-replayed", b"true"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": replay.body, "more_body": False})
