"""The user's decision on a pending action, then the conversation continues with its outcome.

The decision reaches the model as the result of the tool call that proposed the action (see
`deferred`): nothing the user types can stand in for it. After an approval (executed or failed)
or a rejection the assistant answers it: a confirmation with a next step, an acknowledgement of
the rejection, or an explanation of a failure with what can be done about it. An edit changes a
waiting action and shows the new proposal; the model reads it as "edited" if it is called before
the user decides.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.actions.service import ActionError
from app.conversation.events import ActionExecuted, ActionProposed, Done, Event, failure
from app.conversation.session import TurnDeps
from app.conversation.turn import CancelToken, resume
from app.permissions.policy import UserContext


def approve(
    deps: TurnDeps,
    user: UserContext,
    action_id: str,
    *,
    expected_digest: str | None = None,
    confirm_text: str | None = None,
    cancel: CancelToken | None = None,
) -> Iterator[Event]:
    action = deps.store.actions.get(action_id)
    cid = action.conversation_id if action else ""
    with deps.platform_for(user) as platform:
        ctx = deps.tool_context(user, platform)
        try:
            outcome = deps.actions.approve(
                ctx, action_id, expected_digest=expected_digest, confirm_text=confirm_text
            )
        except ActionError as exc:
            yield from failure(cid, str(exc), "action_refused")
            return
    a = outcome.action
    yield ActionExecuted(
        a.conversation_id, action_id=a.id, tool=a.tool, ok=outcome.ok, status=a.status, message=outcome.message,
        result=outcome.data, retryable=outcome.retryable,
    )  # fmt: skip
    yield from resume(deps, a.conversation_id, user, a.id, cancel)


def reject(
    deps: TurnDeps, user: UserContext, action_id: str, reason: str = "", cancel: CancelToken | None = None
) -> Iterator[Event]:
    try:
        a = deps.actions.reject(user, action_id, reason)
    except ActionError as exc:
        action = deps.store.actions.get(action_id)
        cid = action.conversation_id if action else ""
        yield from failure(cid, str(exc), "action_refused")
        return
    yield ActionExecuted(
        a.conversation_id,
        action_id=a.id,
        tool=a.tool,
        ok=False,
        status=a.status,
        message=f"Rejected: {a.reason}",
    )
    yield from resume(deps, a.conversation_id, user, a.id, cancel)


def edit(deps: TurnDeps, user: UserContext, action_id: str, arguments: dict[str, Any]) -> Iterator[Event]:
    """Change a waiting action's arguments; yields the updated proposal (or the refusal)."""
    action = deps.store.actions.get(action_id)
    cid = action.conversation_id if action else ""
    with deps.platform_for(user) as platform:
        try:
            a = deps.actions.edit(deps.tool_context(user, platform), action_id, arguments)
        except ActionError as exc:
            yield from failure(cid, str(exc), "action_refused")
            return
    yield ActionProposed(
        a.conversation_id, action_id=a.id, tool=a.tool, arguments=a.arguments, preview=a.preview, risk=a.risk,
        digest=a.digest, confirm_name=a.confirm_name, expires_at=a.expires_at.isoformat(),
        changes=list(a.changes or []),
    )  # fmt: skip
    yield Done(a.conversation_id, stop="action_proposed")
