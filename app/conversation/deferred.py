"""Decisions as the results of deferred tool calls: the approval contract the model reads.

A write the model asks for is not run. It becomes a pending action, and the result of that tool
call is deferred until the user decides, the way pydantic-ai's deferred tools end a run with the
calls that need approval and resume it with the decisions. The transcript shows the call's result
as the action stands when the request is built: while it waits, a result saying so (decision
"pending"); once decided, the decision itself. Its content is rendered from the PendingAction row
every time, never from text anyone typed, so a user cannot forge a decision: the only way to
change what the model reads there is to decide through the ActionService.

The content is JSON of exactly this shape (the offline planner parses it):

    {"action_id": str,
     "decision": "pending" | "executed" | "failed" | "rejected" | "expired" | "edited",
     "preview": str,          # the action as it stands (an edit brings a new preview)
     "message": str,          # executed: the platform's answer; failed: the error and whether a
                              # retry is safe; otherwise what the decision means, in words
     "result": ...,           # executed: the tool's data; null otherwise
     "reason": str | null,    # rejected: the user's reason; failed: what went wrong
     "arguments": dict | null,  # the arguments as the user edited them (null when not edited)
     "retryable": bool}       # failed: approving again is safe (false otherwise)

"edited" means the user changed the arguments and the action waits again (an edited action that
was then decided reads as that decision, with its edited `arguments`); an action approved while it
is being carried out still reads "pending". An action still pending past its expiry reads
"expired" before the housekeeping marks it so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

from app.store.records import MessageData, PendingActionData

Decision = Literal["pending", "executed", "failed", "rejected", "expired", "edited"]
DECISIONS: tuple[Decision, ...] = ("pending", "executed", "failed", "rejected", "expired", "edited")
DEFERRED_KEY = "deferred"  # tool-results message metadata: {tool_use_id: {"action_id", "digest"}}

_WAITS = (
    "It has NOT been carried out: it waits for the user's decision (approve, edit or reject) in the "
    "assistant's panel."
)


def payload(action: PendingActionData, proposed_digest: str, now: datetime) -> dict[str, Any]:
    """The decision on `action` as the model reads it (see the module docstring for the shape)."""
    edited = action.digest != proposed_digest
    stored = action.result if isinstance(action.result, dict) else {}
    out: dict[str, Any] = {
        "action_id": action.id,
        "decision": "pending",
        "preview": action.preview,
        "message": "",
        "result": None,
        "reason": None,
        "arguments": dict(action.arguments) if edited else None,
        "retryable": False,
    }
    status = action.status
    if status == "succeeded":
        out.update(decision="executed", result=stored.get("data"))
        out["message"] = str(stored.get("message") or "Done.")
    elif status == "failed":
        retryable = bool(stored.get("retryable"))
        error = action.error or "the platform refused it"
        hint = " Approving it again is safe: it will not be applied twice." if retryable else ""
        out.update(decision="failed", reason=error, retryable=retryable, message=f"{error}{hint}")
    elif status == "rejected":
        out.update(decision="rejected", reason=action.reason or "no reason given")
        out["message"] = "The user rejected it; nothing was changed."
    elif status == "expired" and (action.reason or "").startswith("superseded"):
        out.update(decision="expired", reason=action.reason)
        out["message"] = f"It was replaced by a newer proposal ({action.reason}); nothing was changed."
    elif status == "expired" or action.is_expired(now):
        out["decision"] = "expired"
        out["message"] = "Nobody approved it before it expired; nothing was changed."
    elif status in ("approved", "executing"):
        out["message"] = "The user approved it and it is being carried out now."
    elif edited:
        out["decision"] = "edited"
        out["message"] = f"The user changed its arguments to `arguments` (see the new preview). {_WAITS}"
    else:
        confirm = (
            f" Because it deletes data, the user must also type {action.confirm_name!r} to confirm."
            if action.confirm_name
            else ""
        )
        out["message"] = f"{_WAITS}{confirm} Tell the user what you proposed and stop."
    return out


def content(action: PendingActionData, proposed_digest: str, now: datetime) -> str:
    """`payload` as the tool result's text (key order fixed, so it is the same text every time)."""
    return json.dumps(payload(action, proposed_digest, now), ensure_ascii=False, default=str)


def gone(action_id: str, preview: str = "") -> str:
    """The result of a deferred call whose action no longer exists in the store."""
    return json.dumps(
        {
            "action_id": action_id,
            "decision": "expired",
            "preview": preview,
            "message": "This proposal no longer exists; nothing was changed.",
            "result": None,
            "reason": None,
            "arguments": None,
            "retryable": False,
        },
        ensure_ascii=False,
    )


def deferred_calls(record: MessageData) -> dict[str, dict[str, str]]:
    """The deferred calls a stored tool-results message holds: {tool_use_id: {action_id, digest}}."""
    found = record.metadata.get(DEFERRED_KEY)
    return dict(found) if isinstance(found, dict) else {}


def results(
    records: Iterable[MessageData], actions: Mapping[str, PendingActionData], now: datetime
) -> dict[str, str]:
    """The current result of every deferred call in `records`: {tool_use_id: content}."""
    out: dict[str, str] = {}
    for record in records:
        for call_id, ref in deferred_calls(record).items():
            action = actions.get(str(ref.get("action_id")))
            out[call_id] = (
                content(action, str(ref.get("digest")), now)
                if action is not None
                else gone(str(ref.get("action_id")))
            )
    return out


def holder(records: Iterable[MessageData], action_id: str) -> tuple[MessageData, str] | None:
    """The stored tool-results message holding the call that proposed `action_id`, and its call id."""
    for record in records:
        for call_id, ref in deferred_calls(record).items():
            if ref.get("action_id") == action_id:
                return record, call_id
    return None
