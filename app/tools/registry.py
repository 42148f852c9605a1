"""The set of tools, what each user is offered, and the safe way to call one.

`offered_to(user)` leaves out every tool the user's role cannot use: a student is never shown a
delete tool, so no model can be talked into calling one on their behalf. `validate` and `run_read`
turn every failure into a ToolResult with a message the model can act on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from app.permissions.policy import UserContext, check_permission
from app.platform.errors import PlatformError
from app.tools.base import REPLACES_KEY, Tool, ToolContext, ToolInput, ToolResult
from app.tools.spec import ToolSpec

log = logging.getLogger(__name__)


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool]) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            if tool.name in self._tools:
                raise ValueError(f"two tools named {tool.name}")
            self._tools[tool.name] = tool

    def __iter__(self) -> Any:
        return iter(self._tools.values())

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def offered_to(self, user: UserContext) -> list[Tool]:
        return [t for t in self._tools.values() if user.can(t.permissions)]

    def specs_for(self, user: UserContext) -> list[ToolSpec]:
        return [t.spec() for t in self.offered_to(user)]

    def validate(
        self, user: UserContext, name: str, raw: dict[str, Any], input_error: str | None = None
    ) -> tuple[Tool, ToolInput] | ToolResult:
        """The tool and its parsed input, or a failed result saying what to fix."""
        tool = self._tools.get(name)
        if tool is None:
            offered = ", ".join(t.name for t in self.offered_to(user))
            return ToolResult.failure(f"There is no tool named {name!r}. Available tools: {offered}.")
        decision = check_permission(user, name, tool.permissions)
        if not decision.allowed:
            return ToolResult.failure(decision.reason)
        if input_error:
            return ToolResult.failure(
                f"The arguments for {name} were not valid JSON ({input_error}). Send a JSON object."
            )
        replaces: str | None = None
        if tool.needs_approval and isinstance(raw, dict) and REPLACES_KEY in raw:
            raw = dict(raw)
            found = raw.pop(REPLACES_KEY)
            replaces = str(found).strip() if found else None
        try:
            return tool, tool.input_model.model_validate(raw).replacing(replaces)
        except ValidationError as exc:
            return ToolResult.failure(
                f"Invalid arguments for {name}: {_describe(exc)}. Fix them and call {name} again."
            )

    @staticmethod
    def run_read(tool: Tool, args: ToolInput, ctx: ToolContext) -> ToolResult:
        try:
            return tool.run(ctx, args)
        except PlatformError as exc:
            return ToolResult.failure(
                exc.describe(), {"status": exc.status, "rule": exc.rule, "field": exc.field}
            )
        except (
            LookupError,
            ValueError,
        ) as exc:  # a tool saying what it cannot do (no organization, no match)
            return ToolResult.failure(f"{tool.name}: {exc}")
        except Exception as exc:  # a tool bug must not end the turn; the model and the log see it
            log.exception("tool %s failed", tool.name)
            return ToolResult.failure(f"{tool.name} failed unexpectedly: {type(exc).__name__}: {exc}")


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:8]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "input"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)
