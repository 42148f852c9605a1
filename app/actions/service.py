"""Pending actions: propose, edit, approve, reject, expire, execute.

Approval is a deferred result of a turn, not UI state: a write the model asks for becomes a row in
the store, and the dashboard or the web widget decides on it later. Every decision goes through
here and every rule is checked here, whoever calls:

- only the user who proposed an action may decide on it, and only while it waits;
- approving needs the digest of the arguments the user saw, so an edit made meanwhile (another
  tab, another device) makes the approval fail instead of running something else;
- a destructive action also needs the resource's name typed back; whether it is destructive is
  the registered tool's risk at decision time, never the stored row's;
- an action whose tool no longer exists, or whose stored arguments no longer validate, ends
  "failed" with the reason (never stuck in "executing");
- two approvals race on one conditional UPDATE: exactly one executes;
- a proposal may replace a waiting one of the same user and conversation (the user changed their
  mind before approving: "actually make it advanced"); the earlier one then ends "expired" with
  the reason, so approving it runs nothing;
- before executing, the permission and the organization of every resource are checked again,
  from fresh platform lookups; the model's word is never taken for either;
- execution sends the action's idempotency key, so a retry after a timeout or a 500 cannot create
  anything twice; a failure the platform may not have completed stays retryable. The platform
  forgets keys after a while (PLATFORM_IDEMPOTENCY_WINDOW_HOURS): a retry that late first looks
  for what the first attempt may have created (by name, where it would be), and a tool that
  cannot look refuses, unless running it twice cannot duplicate anything.

Every proposal, decision, refusal and execution is written to the audit log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from app.permissions.policy import Decision, UserContext, check_organization, check_permission
from app.platform.errors import PlatformError
from app.store.db import Store
from app.store.records import PendingActionData
from app.store.repositories.actions import arguments_digest
from app.tools.base import Plan, Tool, ToolContext, ToolInput, ToolResult
from app.tools.registry import ToolRegistry


class ActionError(Exception):
    """A decision that cannot be carried out, with the reason to show the user."""


@dataclass(frozen=True)
class Proposal:
    action: PendingActionData | None  # None: refused before it was stored
    result: ToolResult  # what the model is told


@dataclass(frozen=True)
class Outcome:
    action: PendingActionData
    ok: bool
    message: str
    retryable: bool = False
    data: Any = None


_STATES = {
    "succeeded": "was already carried out",
    "executing": "is being carried out",
    "approved": "was already approved",
    "rejected": "was rejected",
    "expired": "has expired",
    "failed": "failed and cannot be retried",
    "pending": "is still waiting for approval",
}


def _state(status: str) -> str:
    return _STATES.get(status, f"is {status}")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _first_attempt(action: PendingActionData) -> datetime | None:
    """When the idempotency key was first sent: kept in the failure's result across retries."""
    stored = (action.result or {}).get("first_attempt_at") if isinstance(action.result, dict) else None
    if stored:
        moment = datetime.fromisoformat(stored)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    decided = action.decided_at
    if decided is None:
        return None
    return decided if decided.tzinfo else decided.replace(tzinfo=UTC)


def _ago(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours >= 1 else f"{delta.total_seconds() / 60:.0f} min"


class ActionService:
    KEY_WINDOW_MARGIN = 0.9
    """Look for a first attempt's result from 90% of the platform's key window on: clocks differ."""

    def __init__(
        self,
        store: Store,
        registry: ToolRegistry,
        ttl_minutes: int = 30,
        clock: Any = utcnow,
        *,
        key_window_hours: float = 24.0,
    ) -> None:
        self.store = store
        self.registry = registry
        self.ttl = timedelta(minutes=ttl_minutes)
        self.clock = clock
        self.key_window = timedelta(hours=key_window_hours)

    # --- proposing -----------------------------------------------------------------------------
    def propose(self, ctx: ToolContext, conversation_id: str, tool: Tool, args: ToolInput) -> Proposal:
        user = ctx.user
        arguments = args.model_dump(mode="json")
        plan_or_refusal = self._plan(ctx, tool, args)
        if isinstance(plan_or_refusal, Decision):
            self._audit(
                "refused",
                user,
                conversation_id,
                None,
                {"tool": tool.name, "arguments": arguments, "reason": plan_or_refusal.reason},
            )
            return Proposal(None, ToolResult.failure(f"Not proposed: {plan_or_refusal.reason}"))
        plan = plan_or_refusal
        action = self.store.actions.add(
            conversation_id=conversation_id,
            user_id=user.user_id,
            organization_id=user.organization_id,
            tool=tool.name,
            arguments=arguments,
            preview=plan.preview,
            idempotency_key=str(uuid.uuid4()),
            risk=tool.risk,
            expires_at=self.clock() + self.ttl,
            digest=arguments_digest(arguments),
            confirm_name=plan.confirm_name,
            changes=[c.as_dict() for c in plan.changes],
        )
        self._audit(
            "proposed", user, conversation_id, action.id, {"tool": tool.name, "preview": plan.preview}
        )
        replaced = self._supersede(user, conversation_id, args.replaces, action) if args.replaces else ""
        confirm = (
            f" Because it deletes data, the user must also type {plan.confirm_name!r} to confirm."
            if plan.confirm_name
            else ""
        )
        message = (
            f"Proposed action {action.id}: {plan.preview}. It has NOT been carried out: it waits for the "
            f"user's approval in the assistant's panel.{confirm}{replaced} Tell the user what you proposed "
            "and stop."
        )
        payload = {"action_id": action.id, "status": "pending_approval", "preview": plan.preview}
        return Proposal(action, ToolResult.success(payload, message))

    def _supersede(self, user: UserContext, conversation_id: str, old_id: str, new: PendingActionData) -> str:
        """End the waiting proposal `old_id` that `new` replaces, so approving it cannot run the old
        arguments. It ends "expired" (the status every reader already treats as "can no longer be
        approved, nothing was done") with the reason naming its replacement, audited as expired with
        the action that superseded it.
        Only the user's own waiting action of the same conversation can be replaced; otherwise the
        new proposal stands alone and the model is told why the old one was not touched."""
        old = self.store.actions.get(old_id)
        if old is None or old.user_id != user.user_id or old.conversation_id != conversation_id:
            return f" (No waiting proposal {old_id!r} of this conversation was replaced.)"
        if old.id == new.id:
            return ""
        reason = f"superseded by action {new.id}: {new.preview}"
        if not self.store.actions.transition(
            old.id, "pending", "expired", decided_at=self.clock(), decided_by=user.user_id, reason=reason
        ):
            current = self.store.actions.get(old.id)
            state = _state(current.status) if current else "no longer exists"
            return f" The earlier proposal {old.id} was not replaced: it {state}."
        self._audit(
            "expired", user, conversation_id, old.id, {"superseded_by": new.id, "preview": new.preview}
        )
        return f" It replaces the earlier proposal {old.id} ({old.preview}), which can no longer be approved."

    def _plan(self, ctx: ToolContext, tool: Tool, args: ToolInput) -> Plan | Decision:
        """The tool's plan if the policy allows it, else the refusal with its reason."""
        decision = check_permission(ctx.user, tool.name, tool.permissions)
        if not decision.allowed:
            return decision
        assert tool.plan is not None
        try:
            plan = tool.plan(ctx, args)
        except PlatformError as exc:
            if exc.status in (403, 404):
                return Decision.deny(f"{exc.detail} (not found in your organization, or not yours to change)")
            return Decision.deny(exc.describe())
        except (LookupError, ValueError) as exc:
            return Decision.deny(str(exc))
        for label, organization_id in plan.scope:
            decision = check_organization(ctx.user, label, organization_id)
            if not decision.allowed:
                return decision
        return plan

    # --- deciding ------------------------------------------------------------------------------
    def edit(self, ctx: ToolContext, action_id: str, arguments: dict[str, Any]) -> PendingActionData:
        """Replace a waiting action's arguments: re-validated, re-planned, new digest and preview."""
        action = self._own_waiting(ctx.user, action_id)
        tool = self._tool(action)
        try:
            args = tool.input_model.model_validate(arguments)
        except ValidationError as exc:
            raise ActionError(f"Those values are not valid: {exc.errors()[0].get('msg', 'invalid')}") from exc
        plan = self._plan(ctx, tool, args)
        if isinstance(plan, Decision):
            raise self._refused(ctx.user, action, plan.reason, plan.reason)
        clean = args.model_dump(mode="json")
        if not self.store.actions.update_arguments(
            action.id,
            clean,
            arguments_digest(clean),
            plan.preview,
            confirm_name=plan.confirm_name,
            changes=[c.as_dict() for c in plan.changes],
        ):
            raise ActionError("The action was decided or expired while you were editing it.")
        self._audit(
            "edited",
            ctx.user,
            action.conversation_id,
            action.id,
            {"arguments": clean, "preview": plan.preview},
        )
        return self.store.actions.require(action.id)

    def reject(self, user: UserContext, action_id: str, reason: str = "") -> PendingActionData:
        action = self._own_waiting(user, action_id)
        reason = reason.strip()[:500] or "no reason given"
        if not self.store.actions.transition(
            action.id, "pending", "rejected", decided_at=self.clock(), decided_by=user.user_id, reason=reason
        ):
            raise ActionError(self._why_not(action.id))
        self._audit("rejected", user, action.conversation_id, action.id, {"reason": reason})
        return self.store.actions.require(action.id)

    def approve(
        self,
        ctx: ToolContext,
        action_id: str,
        *,
        expected_digest: str | None,
        confirm_text: str | None = None,
    ) -> Outcome:
        """Approve and execute (or retry a failed execution). Raises ActionError when refused.

        `expected_digest` is the digest of the arguments the user was shown; without it nothing runs.
        """
        user = ctx.user
        action = self.store.actions.get(action_id)
        if action is None or action.user_id != user.user_id:
            self._audit("refused", user, None, action_id, {"reason": "not the user's action"})
            raise ActionError("There is no such action waiting for you.")
        retry = action.status == "failed" and bool((action.result or {}).get("retryable"))
        if action.status != "pending" and not retry:
            raise self._refused(
                user,
                action,
                f"already {action.status}",
                f"This action {_state(action.status)}; nothing was done.",
            )
        now = self.clock()
        if action.status == "pending" and action.expires_at <= now:
            self.expire_due()
            raise ActionError("This action expired before it was approved; nothing was done. Ask again.")
        if not expected_digest:
            raise self._refused(
                user,
                action,
                "no digest",
                "Approving needs the digest of the arguments you were shown; nothing was done.",
            )
        if expected_digest != action.digest:
            self._audit("refused", user, action.conversation_id, action.id, {"reason": "arguments changed"})
            raise ActionError("The action changed after you saw it; nothing was done. Review it again.")
        usable = self._usable(action)
        if isinstance(usable, str):
            return self._end_unusable(user, action, usable)
        tool, args = usable
        if tool.risk == "destructive":
            if not action.confirm_name:
                raise self._refused(
                    user,
                    action,
                    "destructive action without a confirmation name",
                    "This action deletes data but has no name to confirm with; nothing was done. Ask again.",
                )
            if (confirm_text or "").strip() != action.confirm_name:
                raise self._refused(
                    user,
                    action,
                    "confirmation name did not match",
                    f"To confirm, type the name exactly: {action.confirm_name}",
                )
        if retry:
            self._check_late_retry(ctx, action, tool, args)
        won = self.store.actions.transition(
            action.id,
            "failed" if retry else "pending",
            "approved",
            now=None if retry else now,
            expected_digest=action.digest,
            decided_at=now,
            decided_by=user.user_id,
        )
        if not won:
            why = self._why_not(action.id)
            raise self._refused(user, action, why, why)
        self._audit("approved", user, action.conversation_id, action.id, {"retry": retry})
        return self._execute(ctx, self.store.actions.require(action.id))

    def _usable(self, action: PendingActionData) -> tuple[Tool, ToolInput] | str:
        """The action's registered tool and validated arguments, or why it can no longer run."""
        tool = self.registry.get(action.tool)
        if tool is None or not tool.needs_approval:
            return f"The tool {action.tool!r} of this action no longer exists; nothing was done."
        try:
            return tool, tool.input_model.model_validate(action.arguments)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ())) or "arguments"
            return f"The stored arguments are no longer valid ({where}: {first.get('msg', 'invalid')}); nothing was done."

    def _end_unusable(self, user: UserContext, action: PendingActionData, reason: str) -> Outcome:
        """End an action that can never run as "failed" with the reason, audited."""
        self.store.actions.transition(
            action.id,
            ("pending", "failed", "approved", "executing"),
            "failed",
            decided_at=self.clock(),
            decided_by=user.user_id,
            error=reason,
            result={"retryable": False, "status": None},
        )
        self._audit("failed", user, action.conversation_id, action.id, {"error": reason, "retryable": False})
        return Outcome(self.store.actions.require(action.id), False, reason)

    def _check_late_retry(
        self, ctx: ToolContext, action: PendingActionData, tool: Tool, args: ToolInput
    ) -> None:
        """Past the platform's key window the key no longer protects: look first, or refuse."""
        first = _first_attempt(action)
        if first is None or self.clock() - first < self.key_window * self.KEY_WINDOW_MARGIN:
            return
        hours = self.key_window.total_seconds() / 3600
        if tool.find_existing is not None:
            try:
                existing = tool.find_existing(ctx, args)
            except PlatformError as exc:
                raise self._refused(
                    ctx.user,
                    action,
                    f"late retry: could not look for the first attempt's result ({exc.status})",
                    f"The platform keeps retries safe for {hours:g} h only and this action was first tried "
                    f"earlier, so it must first check whether that attempt went through, and could not "
                    f"({exc.describe()}). Nothing was done; try again shortly.",
                ) from exc
            if existing is None:
                self._audit(
                    "checked", ctx.user, action.conversation_id, action.id, {"late_retry": "nothing found"}
                )
                return
            label = existing.get("name") or existing.get("title") or existing.get("id")
            reason = (
                f"The first attempt appears to have gone through: {label!r} already exists "
                f"(id {existing.get('id')}). Nothing was done again."
            )
            self._finish_failed(ctx.user, action, reason, data=existing)
            raise ActionError(reason)
        if tool.repeatable:
            return
        reason = (
            f"The platform keeps retries safe for {hours:g} h only and this action was first tried "
            f"{_ago(self.clock() - first)} ago; retrying now could do it twice, so nothing was done. "
            "Ask the assistant again for a fresh proposal."
        )
        self._finish_failed(ctx.user, action, reason)
        raise ActionError(reason)

    def _finish_failed(
        self, user: UserContext, action: PendingActionData, reason: str, data: Any = None
    ) -> None:
        """A retryable failure becomes final (not retryable), with the reason, audited."""
        self.store.actions.transition(
            action.id, "failed", "failed", error=reason, result={"retryable": False, "found": data}
        )
        self._audit("refused", user, action.conversation_id, action.id, {"reason": reason})

    def _execute(self, ctx: ToolContext, action: PendingActionData) -> Outcome:
        user = ctx.user
        if not self.store.actions.transition(action.id, "approved", "executing", bump_attempts=True):
            raise ActionError(self._why_not(action.id))
        usable = self._usable(action)
        if isinstance(usable, str):
            return self._end_unusable(user, action, usable)
        tool, args = usable
        ctx.stage = "execute"  # permissions and scope again; what the platform decides, it decides
        try:
            plan = self._plan(ctx, tool, args)  # fresh lookups: the world may have changed since
            if isinstance(plan, Decision):
                return self._fail(action, user, f"Refused at execution: {plan.reason}", retryable=False)
            ctx.idempotency_key = action.idempotency_key
            result = tool.run(ctx, args)
        except PlatformError as exc:
            return self._fail(action, user, exc.describe(), retryable=exc.retryable, status=exc.status)
        except Exception as exc:  # an unexpected failure must still end in a recorded state
            return self._fail(action, user, f"{type(exc).__name__}: {exc}", retryable=True)
        finally:
            ctx.idempotency_key = None
            ctx.stage = "propose"
        self.store.actions.transition(
            action.id,
            "executing",
            "succeeded",
            result={"data": result.data, "message": result.content},
            error=None,
        )
        self._audit("executed", user, action.conversation_id, action.id, {"message": result.content})
        return Outcome(self.store.actions.require(action.id), True, result.content, data=result.data)

    def _fail(
        self,
        action: PendingActionData,
        user: UserContext,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
    ) -> Outcome:
        first = _first_attempt(action)
        self.store.actions.transition(
            action.id,
            "executing",
            "failed",
            error=message,
            result={
                "retryable": retryable,
                "status": status,
                "first_attempt_at": first.isoformat() if first else None,
            },
        )
        self._audit(
            "failed", user, action.conversation_id, action.id, {"error": message, "retryable": retryable}
        )
        hint = " You can retry it safely: it will not be applied twice." if retryable else ""
        return Outcome(self.store.actions.require(action.id), False, message + hint, retryable=retryable)

    # --- housekeeping --------------------------------------------------------------------------
    def expire_due(self) -> list[str]:
        expired = self.store.actions.expire_due(self.clock())
        for action_id in expired:
            action = self.store.actions.get(action_id)
            if action is not None:
                self.store.audit.add(
                    "expired", user_id=action.user_id, organization_id=action.organization_id,
                    conversation_id=action.conversation_id, action_id=action_id,
                )  # fmt: skip
        return expired

    def waiting(
        self, *, conversation_id: str | None = None, user_id: str | None = None
    ) -> list[PendingActionData]:
        self.expire_due()
        return self.store.actions.list(conversation_id=conversation_id, user_id=user_id, status="pending")

    # --- helpers -------------------------------------------------------------------------------
    def _tool(self, action: PendingActionData) -> Tool:
        tool = self.registry.get(action.tool)
        if tool is None or not tool.needs_approval:
            raise ActionError(f"The tool {action.tool!r} of this action no longer exists.")
        return tool

    def _own_waiting(self, user: UserContext, action_id: str) -> PendingActionData:
        action = self.store.actions.get(action_id)
        if action is None or action.user_id != user.user_id:
            self._audit("refused", user, None, action_id, {"reason": "not the user's action"})
            raise ActionError("There is no such action waiting for you.")
        if action.status != "pending":
            raise ActionError(f"This action {_state(action.status)}.")
        if action.expires_at <= self.clock():
            self.expire_due()
            raise ActionError("This action has expired.")
        return action

    def _refused(
        self, user: UserContext, action: PendingActionData, reason: str, message: str
    ) -> ActionError:
        """Audit a refused decision and return the error to raise (every refusal is audited)."""
        self._audit("refused", user, action.conversation_id, action.id, {"reason": reason})
        return ActionError(message)

    def _why_not(self, action_id: str) -> str:
        action = self.store.actions.get(action_id)
        if action is None:
            return "The action no longer exists."
        if action.status == "pending":
            return "The action changed or expired meanwhile; nothing was done."
        return f"The action {_state(action.status)}; nothing more was done."

    def _audit(
        self,
        event: str,
        user: UserContext,
        conversation_id: str | None,
        action_id: str | None,
        details: dict[str, Any],
    ) -> None:
        self.store.audit.add(
            event,
            user_id=user.user_id,
            organization_id=user.organization_id,
            conversation_id=conversation_id,
            action_id=action_id,
            details=details,
        )
