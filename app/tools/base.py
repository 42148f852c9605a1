"""Tools the model may call: typed inputs, a risk level, the permission they need, their HTTP call.

The JSON schema the model sees is generated from each tool's pydantic input model, so the schema
and the validation can never disagree. A tool never raises into the turn loop: every failure
(bad input, a platform refusal, a timeout) comes back as a failed ToolResult the model can read
and correct itself from.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr

from app.permissions.policy import UserContext
from app.platform.client import PlatformClient
from app.tools.spec import ToolSpec
from indexing.file_lines import FileLines

Risk = Literal["read", "write", "destructive"]
MAX_RESULT_CHARS = 6000
REPLACES_KEY = "replaces_action_id"
"""A write call may name the waiting proposal it replaces (the user changed their mind before
approving): the earlier one then ends, so approving it cannot run the old arguments. It is not one
of the tool's arguments: it is never stored with them, digested, shown in an edit form or sent to
the platform."""
REPLACES_SCHEMA = {
    "type": "string",
    "description": "Only when this call changes a proposal still waiting for approval (the user "
    "asked for something different before approving it): that proposal's action_id. The earlier "
    "proposal is then withdrawn and cannot be approved any more.",
}


class ToolInput(BaseModel):
    """Base of every tool input: unknown fields are an error the model is told about."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    _replaces: str | None = PrivateAttr(default=None)

    @property
    def replaces(self) -> str | None:
        """The waiting proposal this call replaces (see REPLACES_KEY), if any."""
        return self._replaces

    def replacing(self, action_id: str | None) -> ToolInput:
        self._replaces = action_id
        return self


@dataclass
class ToolContext:
    """What a tool may use while it runs for one user."""

    user: UserContext
    platform: PlatformClient
    search: Callable[[str, int], list[dict[str, Any]]] | None = None
    read_file: Callable[[str, int, int | None], FileLines] | None = None
    idempotency_key: str | None = None  # set when an approved action executes
    stage: Literal["propose", "execute"] = "propose"
    """"execute" while an approved action is re-planned and run: the checks made before proposing
    (is the track still a draft? is it published yet?) are then the platform's alone, so a retry
    whose first attempt went through gets the platform's replayed answer instead of a refusal."""


@dataclass(frozen=True)
class ToolResult:
    ok: bool
    content: str  # what the model reads
    data: Any = None  # structured result for the UI and the audit log
    error: str | None = None

    @staticmethod
    def success(data: Any, summary: str | None = None) -> ToolResult:
        text = summary if summary is not None else json.dumps(data, default=str, ensure_ascii=False)
        if len(text) > MAX_RESULT_CHARS:
            text = text[:MAX_RESULT_CHARS] + " ... (truncated)"
        return ToolResult(True, text, data)

    @staticmethod
    def failure(message: str, data: Any = None) -> ToolResult:
        return ToolResult(False, message, data, error=message)


@dataclass(frozen=True)
class Change:
    """One thing approving will change, against the platform's state when it was proposed.

    `before` None: the thing does not exist yet; `after` None: it will be gone.
    """

    target: str  # "track 'Python Fundamentals'", "new project"
    field: str  # "status", "students enrolled", "exists"
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "field": self.field, "before": self.before, "after": self.after}


def created(target: str, values: dict[str, Any]) -> list[Change]:
    """A new resource: every field given goes from nothing to its value."""
    return [Change(target, key, None, value) for key, value in values.items() if value not in (None, "", [])]


@dataclass(frozen=True)
class Plan:
    """What a write will do, worked out before anyone approves it.

    `scope` lists every resource the action touches with the organization it belongs to, looked
    up on the platform (never taken from the model), for the policy to check.
    """

    preview: str
    scope: list[tuple[str, str | None]] = field(default_factory=list)
    confirm_name: str | None = None  # destructive actions: the name the user must type back
    details: dict[str, Any] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_model: type[ToolInput]
    risk: Risk
    permissions: tuple[str, ...]  # any one of them is enough; empty: anyone signed in
    run: Callable[[ToolContext, Any], ToolResult]
    plan: Callable[[ToolContext, Any], Plan] | None = None
    find_existing: Callable[[ToolContext, Any], dict[str, Any] | None] | None = None
    """Creates: what a first attempt would have made, looked up by name in the target container.

    Needed to retry after the platform forgot the idempotency key: the key no longer protects
    against a second copy, so the retry first looks for the first one."""
    repeatable: bool = False
    """Running it twice cannot duplicate anything (publish, enroll, assign, delete): a late retry
    may simply run again."""

    def __post_init__(self) -> None:
        if self.risk != "read" and self.plan is None:
            raise ValueError(f"write tool {self.name} needs a plan (preview and scope)")

    @property
    def needs_approval(self) -> bool:
        return self.risk != "read"

    def spec(self) -> ToolSpec:
        schema = json_schema(self.input_model)
        risk_note = {
            "read": "",
            "write": " Changes data: it is proposed to the user, who approves it before it runs.",
            "destructive": " Deletes data: the user must approve it and type the resource's name.",
        }[self.risk]
        if self.needs_approval:
            schema["properties"][REPLACES_KEY] = dict(REPLACES_SCHEMA)
        return ToolSpec(self.name, self.description + risk_note, schema)


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with $refs inlined and titles dropped (smaller, and every
    provider accepts it). A fresh copy each call (callers add to it) of one computed per model:
    pydantic takes about a millisecond per model, and every turn lists every tool."""
    return copy.deepcopy(_json_schema(model))


@functools.cache
def _json_schema(model: type[BaseModel]) -> dict[str, Any]:
    raw = model.model_json_schema()
    defs = raw.pop("$defs", {})

    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target = defs[node["$ref"].split("/")[-1]]
                merged = {**clean(target), **{k: v for k, v in node.items() if k != "$ref"}}
                return clean(merged)
            out: dict[str, Any] = {}
            for key, value in node.items():
                if key == "title":  # the keyword, not a property called title
                    continue
                if key == "properties":
                    out[key] = {name: clean(sub) for name, sub in value.items()}
                elif key in ("default", "enum", "const", "examples"):  # values, not schemas
                    out[key] = value
                else:
                    out[key] = clean(value)
            return out
        if isinstance(node, list):
            return [clean(v) for v in node]
        return node

    schema: dict[str, Any] = clean(raw)
    schema.setdefault("properties", {})
    schema["type"] = "object"
    schema["additionalProperties"] = False
    return schema
