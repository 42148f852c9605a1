"""One turn of a conversation: a user message in, a stream of typed events out.

The loop: check the message and the user's limits, store the message, retrieve context for a
standalone query, then call the model at most `max_turn_steps` times. Read-only tool calls run at
once and their results go back to the model; a write becomes a pending action whose tool result is
deferred (see `deferred`), and the turn ends. Every message is stored as soon as it exists, so a
failure or a cancellation loses nothing: the next turn starts from what was stored (see
history.repair for the half-finished cases).

Every request is laid out to only grow within a conversation, so the provider's prompt cache is
read rather than rewritten: the tools and the static system prompt first, then the conversation
exactly as it was sent before; the turn's facts and retrieved passages are stored with the user's
message and sent in front of its text on every later step and turn (see `history.render`).

`resume` continues a conversation after the user decided on a pending action: the decision is
the result of the tool call that proposed it, and the model (or the offline planner) answers it
with a confirmation and a next step. The dashboard, the terminal chat and the WebSocket server
all drive these two generators and render the same events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from app.conversation import deferred
from app.conversation.events import (
    ActionProposed,
    ContextRetrieved,
    Done,
    ErrorEvent,
    Event,
    TextDelta,
    Thinking,
    ToolUsed,
    UsageReported,
    failure,
)
from app.conversation.history import (
    CONTEXT_KEY,
    PREFIX_KEY,
    build_history,
    keep_valid_thinking,
    prefix_digest,
    thinking_origins,
)
from app.conversation.prompt import PromptFacts, page_context_block, system_prompt, turn_context
from app.conversation.query import standalone_query
from app.conversation.session import TurnDeps
from app.permissions.policy import UserContext
from app.providers.base import (
    Message,
    ModelRequest,
    ModelResponse,
    ProviderError,
    ToolResultBlock,
)
from app.providers.base import TextDelta as ProviderDelta
from app.retrieval.packing import estimate_tokens, pack_context
from app.store.records import ConversationData, MessageData
from app.tools.base import ToolContext
from app.tools.spec import ToolSpec
from app.usage.limits import BudgetExceeded, RateLimited

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 8000
CancelToken = threading.Event
PROJECTS_KEY = "projects"  # user-message metadata: the organization's projects when it was sent


def run_turn(
    deps: TurnDeps,
    conversation_id: str,
    user: UserContext,
    message: str,
    cancel: CancelToken | None = None,
    page_context: dict[str, Any] | None = None,
) -> Iterator[Event]:
    """Answer `message` in the conversation; yields events and always ends with Done."""
    conv = _conversation(deps, conversation_id, user)
    if conv is None:
        yield from failure(conversation_id, "There is no such conversation.", "not_found")
        return
    text = message.strip()
    problem = _check_message(text)
    if problem:
        yield from failure(conversation_id, problem, "invalid_message")
        return
    try:
        deps.rate_limiter.hit(user.user_id)
        deps.budget.check(user.user_id)
    except RateLimited as exc:
        yield from failure(conversation_id, str(exc), "rate_limited", retryable=True)
        return
    except BudgetExceeded as exc:
        yield from failure(conversation_id, str(exc), "budget_exceeded")
        return

    previous = _user_texts(deps, conversation_id)
    stored = deps.store.conversations.append_message(
        conversation_id, "user", Message.user(text).to_dict()["content"]
    )
    if not conv.title:
        deps.store.conversations.set_title(conversation_id, _title(text))
    yield Thinking(conversation_id, step=0)

    retrieved, packed = _retrieve(deps, conversation_id, standalone_query(text, previous))
    yield retrieved
    passages = [c for c in retrieved.chunks if c["cite"]]
    with deps.platform_for(user) as platform:
        facts = _facts(deps, user, platform)
        blocks = (turn_context(user, facts), page_context_block(page_context), packed)
        deps.store.conversations.annotate_message(
            stored.id, **{CONTEXT_KEY: "\n".join(b for b in blocks if b), PROJECTS_KEY: list(facts.projects)}
        )
        ctx = deps.tool_context(user, platform)
        yield from _loop(deps, _Turn(conv, user, ctx, passages), cancel)


def resume(
    deps: TurnDeps, conversation_id: str, user: UserContext, action_id: str, cancel: CancelToken | None = None
) -> Iterator[Event]:
    """Let the assistant answer the user's decision on `action_id`.

    The decision is the result of the tool call that proposed the action (rendered from the action
    when the request is built). When the conversation went on after that call, an app message
    notes which call was decided, so the request ends with a user message; it says nothing the
    transcript does not already hold, so typing it decides nothing."""
    conv = _conversation(deps, conversation_id, user)
    action = deps.store.actions.get(action_id)
    if conv is None or action is None or action.conversation_id != conversation_id:
        yield from failure(conversation_id, "There is no such action in this conversation.", "not_found")
        return
    records = deps.store.conversations.list_messages(conversation_id)
    found = deferred.holder(records, action_id)
    if found is None:  # proposed before decisions were tool results: no call to hold it
        outcome = deferred.payload(action, action.digest, deps.actions.clock())["message"]
        note = f"[Action {action_id[:8]} ({action.preview}), proposed earlier: {outcome}]"
    elif found[0].seq != records[-1].seq:
        note = f"[The user decided on action {action_id[:8]}: see the result of tool call {found[1]} above.]"
    else:
        note = ""
    if note:
        deps.store.conversations.append_message(
            conversation_id,
            "user",
            [{"type": "text", "text": note}],
            metadata={"kind": "decision", "action_id": action_id},
        )
    with deps.platform_for(user) as platform:
        ctx = deps.tool_context(user, platform)
        yield from _loop(deps, _Turn(conv, user, ctx, [], decided=action_id), cancel)


# ----------------------------------------------------------------------------------------------
def _retrieve(deps: TurnDeps, cid: str, query: str) -> tuple[ContextRetrieved, str]:
    """Search for the standalone query; the event that shows it, and the packed context block."""
    started = time.perf_counter()
    result = deps.retrieval.search_for_turn(query, deps.settings.retrieval_top_k) if deps.retrieval else None
    chunks = result.chunks if result else []
    packed = pack_context(chunks, deps.settings.context_token_budget)
    cited = []
    for chunk in chunks:
        cite = next((c.id for c in packed.citations if c.chunk_id == chunk.chunk_id), None)
        cited.append({**chunk.as_dict(), "cite": cite})
    event = ContextRetrieved(
        cid,
        query=query,
        chunks=cited,
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
        warnings=list(result.warnings) if result else [],
    )
    return event, packed.text


@dataclass
class _Turn:
    """What the model loop of one turn works with."""

    conv: ConversationData
    user: UserContext
    ctx: ToolContext
    passages: list[dict[str, Any]]
    decided: str | None = None  # resume: the action whose decision the model is to answer


def _loop(deps: TurnDeps, turn: _Turn, cancel: CancelToken | None) -> Iterator[Event]:
    """The model loop of a turn: build the request, call the model, store its answer, run the tools
    it asked for; until it answers without tools, proposes a write, or `max_turn_steps` calls."""
    cid = turn.conv.id
    tools = deps.registry.specs_for(turn.user)
    final_text = ""
    for step in range(1, deps.settings.max_turn_steps + 1):
        request = _request(deps, turn, tools, first=step == 1)
        if cancel is not None and cancel.is_set():
            yield from _cancelled(deps, cid, "")
            return
        yield Thinking(cid, step=step)
        response = yield from _call_model(deps, cid, request, cancel)
        if response is None:
            return
        yield _usage(deps, turn.conv, turn.user, response)
        _store_answer(deps, cid, request, response)
        if response.text:
            final_text = response.text
        if not response.tool_uses:
            yield Done(cid, text=final_text, stop="end_turn")
            return
        proposed = yield from _run_tools(deps, turn, response)
        if proposed:
            yield Done(cid, text=final_text, stop="action_proposed")
            return
    yield ErrorEvent(
        cid,
        message=f"Stopped after {deps.settings.max_turn_steps} steps without a final answer. "
        "Ask again, more specifically.",
        code="steps",
    )
    yield Done(cid, text=final_text, stop="steps")


def _request(deps: TurnDeps, turn: _Turn, tools: list[ToolSpec], *, first: bool) -> ModelRequest:
    """The next model request: the stored conversation as it was sent, plus what came since.

    Older exchanges are condensed only on a turn's first call (condensing changes the start of the
    conversation, which a tool loop in progress must not see)."""
    cid = turn.conv.id
    records = deps.store.conversations.list_messages(cid)
    fresh = deps.store.conversations.get(cid) or turn.conv
    actions = {a.id: a for a in deps.store.actions.list(conversation_id=cid, limit=10_000)}
    history = build_history(
        records,
        fresh.summary,
        fresh.summarized_upto_seq,
        deps.settings.history_token_budget,
        estimate_tokens,
        condense=first,
        results=deferred.results(records, actions, deps.actions.clock()),
    )
    if history.summarized_upto_seq != fresh.summarized_upto_seq:
        deps.store.conversations.set_summary(cid, history.summary, history.summarized_upto_seq)
    system = system_prompt()
    metadata: dict[str, Any] = {
        "passages": turn.passages,
        "provider_state": _last_state(records),
        "user": {
            "role": turn.user.role,
            "organization_id": turn.user.organization_id,
            "email": turn.user.email,
        },
        "projects": _projects(records),
    }
    if first and turn.decided and turn.decided in actions:
        found = deferred.holder(records, turn.decided)
        digest = str(deferred.deferred_calls(found[0])[found[1]].get("digest")) if found else ""
        metadata["decision"] = deferred.payload(actions[turn.decided], digest, deps.actions.clock())
    return ModelRequest(
        system=system,
        messages=keep_valid_thinking(system, tools, history.messages, thinking_origins(records)),
        tools=tools,
        max_tokens=deps.settings.llm_max_tokens,
        metadata=metadata,
    )


def _store_answer(deps: TurnDeps, cid: str, request: ModelRequest, response: ModelResponse) -> None:
    """Store the model's answer as it came, with what produced it: the provider's state for its
    next call, and the digest of the request (thinking in it may be sent back while that holds)."""
    deps.store.conversations.append_message(
        cid,
        "assistant",
        Message("assistant", response.content).to_dict()["content"],
        metadata={
            "provider": response.provider,
            "model": response.model,
            "provider_state": response.state,
            PREFIX_KEY: prefix_digest(request.system, request.tools, request.messages),
        },
    )


def _call_model(
    deps: TurnDeps, cid: str, request: ModelRequest, cancel: CancelToken | None
) -> Generator[Event, None, ModelResponse | None]:
    """Stream one model call as events; the response, or None when the turn ended here."""
    response: ModelResponse | None = None
    streamed: list[str] = []
    stream = deps.provider.stream(request)
    try:
        for item in stream:
            if cancel is not None and cancel.is_set():
                _close(stream)
                yield from _cancelled(deps, cid, "".join(streamed))
                return None
            if isinstance(item, ProviderDelta):
                streamed.append(item.text)
                yield TextDelta(cid, text=item.text)
            else:
                response = item
    except ProviderError as exc:
        _save_partial(deps, cid, "".join(streamed), {"error": str(exc)})
        yield ErrorEvent(
            cid, message=f"The assistant could not answer: {exc}", code="provider", retryable=exc.retryable
        )
        yield Done(cid, text="".join(streamed), stop="error")
        return None
    except Exception as exc:  # a provider bug must not lose the conversation
        log.exception("provider %s failed", deps.provider.name)
        _save_partial(deps, cid, "".join(streamed), {"error": repr(exc)})
        yield ErrorEvent(
            cid, message=f"The assistant failed unexpectedly ({type(exc).__name__}).", code="internal"
        )
        yield Done(cid, text="".join(streamed), stop="error")
        return None
    if response is None:
        yield ErrorEvent(cid, message="The model ended without an answer.", code="provider", retryable=True)
        yield Done(cid, stop="error")
    return response


def _run_tools(deps: TurnDeps, turn: _Turn, response: ModelResponse) -> Generator[Event, None, bool]:
    """Run the reads, propose the writes, store every result; True when something was proposed."""
    cid, user, ctx = turn.conv.id, turn.user, turn.ctx
    results: list[ToolResultBlock] = []
    waiting: dict[str, dict[str, str]] = {}
    for call in response.tool_uses:
        checked = deps.registry.validate(user, call.name, call.input, call.input_error)
        if not isinstance(checked, tuple):
            results.append(ToolResultBlock(call.id, checked.content, True))
            yield ToolUsed(cid, tool=call.name, arguments=call.input, ok=False, summary=checked.content)
            continue
        tool, args = checked
        if not tool.needs_approval:
            outcome = deps.registry.run_read(tool, args, ctx)
            results.append(ToolResultBlock(call.id, outcome.content, not outcome.ok))
            yield ToolUsed(
                cid, tool=tool.name, arguments=call.input, ok=outcome.ok, summary=outcome.content[:500]
            )
            continue
        proposal = deps.actions.propose(ctx, cid, tool, args)
        a = proposal.action
        if a is None:  # refused before it was stored: an ordinary failed result
            results.append(ToolResultBlock(call.id, proposal.result.content, True))
            yield ToolUsed(
                cid, tool=tool.name, arguments=call.input, ok=False, summary=proposal.result.content
            )
            continue
        results.append(ToolResultBlock(call.id, deferred.content(a, a.digest, deps.actions.clock())))
        waiting[call.id] = {"action_id": a.id, "digest": a.digest}
        yield ActionProposed(
            cid, action_id=a.id, tool=a.tool, arguments=a.arguments, preview=a.preview, risk=a.risk,
            digest=a.digest, confirm_name=a.confirm_name, expires_at=a.expires_at.isoformat(),
            changes=list(a.changes or []),
        )  # fmt: skip
    metadata: dict[str, Any] = {"kind": "tool_results"}
    if waiting:
        metadata[deferred.DEFERRED_KEY] = waiting
    deps.store.conversations.append_message(
        cid, "user", Message("user", tuple(results)).to_dict()["content"], metadata=metadata
    )
    return bool(waiting)


def _conversation(deps: TurnDeps, conversation_id: str, user: UserContext) -> ConversationData | None:
    """The conversation if it exists and is this user's (another user's is not revealed)."""
    conv = deps.store.conversations.get(conversation_id)
    return conv if conv is not None and conv.user_id == user.user_id else None


def _check_message(text: str) -> str | None:
    if not text:
        return "The message is empty."
    if len(text) > MAX_MESSAGE_CHARS:
        return (
            f"The message is {len(text):,} characters long; the limit is {MAX_MESSAGE_CHARS:,}. "
            "Shorten it or split it into several messages."
        )
    if "\x00" in text:
        return "The message contains a NUL character; paste it as plain text."
    return None


def _user_texts(deps: TurnDeps, conversation_id: str) -> list[str]:
    out: list[str] = []
    for rec in deps.store.conversations.list_messages(conversation_id, last=20):
        if rec.role == "user" and rec.metadata.get("kind") is None:
            out.extend(str(b.get("text", "")) for b in rec.content if b.get("type") == "text")
    return out


def _title(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 60 else line[:57].rstrip() + "..."


def _facts(deps: TurnDeps, user: UserContext, platform: Any) -> PromptFacts:
    """Organization name, projects and recent actions; a platform hiccup only blurs the facts."""
    org_name = "(no organization)"
    projects: list[str] = []
    if user.organization_id:
        try:
            org = platform.get(f"/organizations/{user.organization_id}")
            org_name = str(org.get("name", user.organization_id))
            if user.can(("create_projects", "teach_tracks")):
                projects = [
                    str(p.get("name"))
                    for p in platform.list_all(f"/organizations/{user.organization_id}/projects")
                ]
        except Exception as exc:
            log.warning("could not fetch the turn's facts: %s", exc)
            org_name = f"{user.organization_id} (details unavailable)"
    recent = [f"{a.preview} [{a.status}]" for a in deps.store.actions.list(user_id=user.user_id, limit=5)]
    return PromptFacts(org_name, projects, recent)


def _projects(records: list[MessageData]) -> list[str]:
    """The projects as of the latest user message that carries them (for the offline planner)."""
    for rec in reversed(records):
        projects = rec.metadata.get(PROJECTS_KEY)
        if rec.role == "user" and isinstance(projects, list):
            return [str(p) for p in projects]
    return []


def _last_state(records: list[MessageData]) -> dict[str, Any]:
    for rec in reversed(records):
        if rec.role == "assistant":
            state = rec.metadata.get("provider_state")
            return dict(state) if isinstance(state, dict) else {}
    return {}


def _usage(
    deps: TurnDeps, conv: ConversationData, user: UserContext, response: ModelResponse
) -> UsageReported:
    u = response.usage
    cost: float | None = None
    try:
        record = deps.ledger.record(
            response.provider,
            response.model,
            u,
            response.latency_ms,
            conv.id,
            user.user_id,
            user.organization_id,
        )
        cost = float(record.cost_usd) if record.cost_usd is not None else None
    except Exception:  # pricing and bookkeeping must never fail a turn
        log.exception("could not record usage")
    return UsageReported(
        conv.id, provider=response.provider, model=response.model, input_tokens=u.input_tokens,
        output_tokens=u.output_tokens, cache_write_tokens=u.cache_write_tokens,
        cache_read_tokens=u.cache_read_tokens, latency_ms=round(response.latency_ms, 1), cost_usd=cost,
        estimated=u.estimated,
    )  # fmt: skip


def _save_partial(deps: TurnDeps, cid: str, text: str, metadata: dict[str, Any]) -> None:
    if text.strip():
        deps.store.conversations.append_message(
            cid, "assistant", [{"type": "text", "text": text}], metadata=metadata
        )


def _cancelled(deps: TurnDeps, cid: str, partial: str) -> Iterator[Event]:
    _save_partial(
        deps, cid, partial.rstrip() + " [cancelled]" if partial.strip() else "", {"cancelled": True}
    )
    yield ErrorEvent(cid, message="Cancelled. Nothing more was done.", code="cancelled")
    yield Done(cid, text=partial, stop="cancelled")


def _close(stream: Iterator[Any]) -> None:
    close = getattr(stream, "close", None)
    if callable(close):
        close()


__all__ = ["MAX_MESSAGE_CHARS", "CancelToken", "page_context_block", "resume", "run_turn"]
