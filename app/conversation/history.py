"""Conversation history for the next model call: repaired, merged, and kept within a budget.

Stored messages are replayed as the provider-neutral Message list, with three repairs that keep a
conversation usable whatever happened to it: a tool call left without a result (a cancelled or
crashed turn) gets a result saying it was not run; a result without its call is dropped; and
consecutive messages of one role are merged (results first), as the providers require.

When the history outgrows its token budget, the oldest exchanges are condensed into a short
deterministic summary (no extra model call, nothing invented), kept on the conversation, and
only the recent exchanges are sent verbatim.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.providers.base import ContentBlock, Message, TextBlock, ToolResultBlock, ToolUseBlock
from app.store.records import MessageData

SUMMARY_MAX_CHARS = 2000
NOT_RUN = "Not run: the turn was interrupted before this tool call was carried out."


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
    """Split into exchanges, each starting at a user message that carries text."""
    groups: list[list[MessageData]] = []
    for rec in records:
        starts = rec.role == "user" and any(b.get("type") == "text" for b in rec.content)
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


def build_history(
    records: Sequence[MessageData],
    summary: str,
    summarized_upto_seq: int,
    budget_tokens: int,
    count: Callable[[str], int],
) -> History:
    """Recent exchanges verbatim within `budget_tokens`; older ones folded into the summary."""
    live = [r for r in records if r.seq > summarized_upto_seq]
    groups = _exchanges(live)
    kept: list[list[MessageData]] = []
    used = 0
    for group in reversed(groups):
        size = sum(count(str(r.content)) for r in group)
        if kept and used + size > budget_tokens:
            break
        kept.insert(0, group)
        used += size
    dropped = groups[: len(groups) - len(kept)]
    if dropped:
        lines = [summary] if summary else []
        lines.extend(_condense(g) for g in dropped)
        summary = " / ".join(lines)
        if len(summary) > SUMMARY_MAX_CHARS:
            summary = "..." + summary[-SUMMARY_MAX_CHARS:]
        summarized_upto_seq = dropped[-1][-1].seq
    messages = [Message.from_dict(r.to_message_dict()) for g in kept for r in g]
    return History(repair(messages), summary, summarized_upto_seq)


def with_context(messages: list[Message], context: str) -> list[Message]:
    """Put the retrieved-context block in front of the last user message's own text."""
    if not context or not messages or messages[-1].role != "user":
        return messages
    last = messages[-1]
    blocks: list[ContentBlock] = [b for b in last.content if isinstance(b, ToolResultBlock)]
    blocks.append(TextBlock(context))
    blocks.extend(b for b in last.content if not isinstance(b, ToolResultBlock))
    return [*messages[:-1], Message("user", tuple(blocks))]
