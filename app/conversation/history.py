"""Conversation history for the next model call: repaired, merged, kept within a budget, and
laid out so that consecutive requests of a conversation only ever grow at their end.

Stored messages are replayed as the provider-neutral Message list, with three repairs that keep a
conversation usable whatever happened to it: a tool call left without a result (a cancelled or
crashed turn) gets a result saying it was not run; a result without its call is dropped; and
consecutive messages of one role are merged (results first), as the providers require.

Each stored message is rendered the same way every time, which is what keeps a provider's prompt
cache valid: a user message carries the facts and passages of its turn (stored in its metadata
as `context`) in front of its text, for every later step and turn; a deferred tool call's result
is its action's decision (see `deferred`), which only a decision changes.

When the history outgrows its token budget, the oldest exchanges are condensed into a short
deterministic summary (no extra model call, nothing invented), kept on the conversation and sent
as the first block of the conversation; only the recent exchanges are sent verbatim. Condensing
changes the start of every later request, so it happens only at the start of a turn, and it
makes room for half the budget at once, so the next one comes many turns later. The budget counts
what was said and done, not the per-turn context that rides along with each message.

Thinking blocks are sent back exactly as the model produced them, but only while everything before
them is unchanged (newer Claude models reject or ignore a block whose prefix changed):
`keep_valid_thinking` compares the digest of what precedes each one with the digest stored when
it was produced.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.conversation.prompt import summary_block
from app.providers.base import (
    ContentBlock,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from app.store.records import MessageData
from app.tools.spec import ToolSpec

SUMMARY_MAX_CHARS = 2000
NOT_RUN = "Not run: the turn was interrupted before this tool call was carried out."
CONTEXT_KEY = "context"  # user-message metadata: the turn's facts and passages, sent before its text
PREFIX_KEY = "prefix_digest"  # assistant-message metadata: digest of the request that produced it


@dataclass(frozen=True)
class History:
    messages: list[Message]
    summary: str
    summarized_upto_seq: int  # messages with seq <= this are in the summary, not in `messages`


def repair(messages: Sequence[Message]) -> list[Message]:
    """Pair every tool call with a result, drop orphan results, merge same-role neighbours."""
    fixed: list[Message] = []
    open_calls: list[str] = []
    for msg in messages:
        if msg.role == "assistant":
            if open_calls:
                fixed.append(Message("user", tuple(ToolResultBlock(i, NOT_RUN, True) for i in open_calls)))
            open_calls = [b.id for b in msg.content if isinstance(b, ToolUseBlock)]
            fixed.append(msg)
            continue
        answered = {b.tool_use_id for b in msg.content if isinstance(b, ToolResultBlock)}
        blocks: list[ContentBlock] = []
        for call in open_calls:
            blocks.append(
                next(b for b in msg.content if isinstance(b, ToolResultBlock) and b.tool_use_id == call)
                if call in answered
                else ToolResultBlock(call, NOT_RUN, True)
            )
        blocks.extend(b for b in msg.content if not isinstance(b, ToolResultBlock))
        open_calls = []
        if blocks:
            fixed.append(Message("user", tuple(blocks)))
    if open_calls:
        fixed.append(Message("user", tuple(ToolResultBlock(i, NOT_RUN, True) for i in open_calls)))
    return merge_roles(fixed)


def merge_roles(messages: Sequence[Message]) -> list[Message]:
    out: list[Message] = []
    for msg in messages:
        if out and out[-1].role == msg.role:
            prev = out[-1]
            blocks = list(prev.content) + list(msg.content)
            if msg.role == "user":  # tool results must come first in a user message
                blocks.sort(key=lambda b: 0 if isinstance(b, ToolResultBlock) else 1)
            out[-1] = Message(msg.role, tuple(blocks))
        else:
            out.append(msg)
    while out and out[0].role != "user":  # a conversation starts with the user
        out.pop(0)
    return out


def _exchanges(records: Sequence[MessageData]) -> list[list[MessageData]]:
    """Split into exchanges, each starting at a user message the user wrote (text, no app kind)."""
    groups: list[list[MessageData]] = []
    for rec in records:
        starts = (
            rec.role == "user"
            and rec.metadata.get("kind") is None
            and any(b.get("type") == "text" for b in rec.content)
        )
        if starts or not groups:
            groups.append([rec])
        else:
            groups[-1].append(rec)
    return groups


def _condense(exchange: Sequence[MessageData]) -> str:
    asked = " ".join(b.get("text", "") for b in exchange[0].content if b.get("type") == "text").strip()
    answer = ""
    tools = []
    for rec in exchange[1:]:
        for b in rec.content:
            if b.get("type") == "text" and rec.role == "assistant":
                answer = str(b.get("text", "")).strip() or answer
            elif b.get("type") == "tool_use":
                tools.append(str(b.get("name")))
    line = f"user: {asked[:160]}"
    if tools:
        line += f" | tools: {', '.join(dict.fromkeys(tools))}"
    if answer:
        line += f" | assistant: {answer[:160]}"
    return line


def render(record: MessageData, results: Mapping[str, str] | None = None) -> Message:
    """A stored message as the model sees it: its turn's context in front of a user's text, and
    each deferred call's result replaced by its current decision (`results`: {tool_use_id: content})."""
    message = Message.from_dict(record.to_message_dict())
    blocks: list[ContentBlock] = list(message.content)
    if results:
        blocks = [
            ToolResultBlock(b.tool_use_id, results[b.tool_use_id])
            if isinstance(b, ToolResultBlock) and b.tool_use_id in results
            else b
            for b in blocks
        ]
    context = record.metadata.get(CONTEXT_KEY)
    if record.role == "user" and isinstance(context, str) and context:
        first_text = next((i for i, b in enumerate(blocks) if isinstance(b, TextBlock)), len(blocks))
        blocks.insert(first_text, TextBlock(context))
    return Message(record.role, tuple(blocks))


def build_history(
    records: Sequence[MessageData],
    summary: str,
    summarized_upto_seq: int,
    budget_tokens: int,
    count: Callable[[str], int],
    *,
    condense: bool = True,
    results: Mapping[str, str] | None = None,
) -> History:
    """Recent exchanges verbatim; with `condense`, older ones are folded into the summary when the
    conversation is over `budget_tokens` (leaving half the budget). `results` replaces the content
    of deferred tool calls' results (see `render`)."""
    live = [r for r in records if r.seq > summarized_upto_seq]
    groups = _exchanges(live)
    sizes = [sum(count(str(r.content)) for r in group) for group in groups]
    kept = len(groups)
    if condense and sum(sizes) > budget_tokens:
        used = 0
        kept = 0
        for size in reversed(sizes):
            if kept and used + size > budget_tokens // 2:
                break
            used += size
            kept += 1
    dropped = groups[: len(groups) - kept]
    if dropped:
        lines = [summary] if summary else []
        lines.extend(_condense(g) for g in dropped)
        summary = " / ".join(lines)
        if len(summary) > SUMMARY_MAX_CHARS:
            summary = "..." + summary[-SUMMARY_MAX_CHARS:]
        summarized_upto_seq = dropped[-1][-1].seq
    messages = repair([render(r, results) for g in groups[len(dropped) :] for r in g])
    if summary and messages:
        first = messages[0]
        messages[0] = Message(first.role, (TextBlock(summary_block(summary)), *first.content))
    return History(messages, summary, summarized_upto_seq)


# --- thinking blocks: sent back only while their prefix is unchanged ---------------------------
def _thinking_key(block: ThinkingBlock) -> str:
    return block.signature or block.redacted_data or ""


def _head(system: str, tools: Sequence[ToolSpec]) -> bytes:
    spec = [[t.name, t.description, t.input_schema] for t in tools]
    return json.dumps([system, spec], sort_keys=True, ensure_ascii=False).encode()


def _canonical(message: Message) -> bytes:
    return json.dumps(message.to_dict(), sort_keys=True, ensure_ascii=False).encode()


def prefix_digest(system: str, tools: Sequence[ToolSpec], messages: Iterable[Message]) -> str:
    """A digest of a request's prefix: what a thinking block produced in answer to it is bound to."""
    digest = hashlib.sha256(_head(system, tools))
    for message in messages:
        digest.update(_canonical(message))
    return digest.hexdigest()


def thinking_origins(records: Iterable[MessageData]) -> dict[str, str]:
    """{thinking block signature: digest of the request that produced it}, from stored answers."""
    out: dict[str, str] = {}
    for record in records:
        digest = record.metadata.get(PREFIX_KEY)
        if record.role != "assistant" or not isinstance(digest, str):
            continue
        for block in record.content:
            if block.get("type") == "thinking":
                key = block.get("signature") or block.get("redacted_data")
                if key:
                    out[str(key)] = digest
    return out


def keep_valid_thinking(
    system: str, tools: Sequence[ToolSpec], messages: Sequence[Message], origins: Mapping[str, str]
) -> list[Message]:
    """Drop the thinking blocks whose prefix is no longer what it was when they were produced
    (a summary was added, a deferred call's result changed): sending them would fail or be ignored."""
    digest = hashlib.sha256(_head(system, tools))
    out: list[Message] = []
    for message in messages:
        thinking = [b for b in message.content if isinstance(b, ThinkingBlock)]
        if thinking and any(origins.get(_thinking_key(b)) != digest.hexdigest() for b in thinking):
            message = Message(
                message.role, tuple(b for b in message.content if not isinstance(b, ThinkingBlock))
            )
        out.append(message)
        digest.update(_canonical(message))
    return out
