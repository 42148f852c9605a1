"""Edit forms generated from a tool's input model: which widget each field gets, and back again.

Pure functions, so the mapping from a pydantic field to a form field (and a form's raw values back
to the arguments the tool validates) is tested without Streamlit. The action service validates
the result again; the form only makes the common mistakes impossible.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

Kind = Literal["text", "long_text", "choice", "integer", "number", "flag", "date", "list"]


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: Kind
    required: bool
    options: tuple[Any, ...] = ()
    help: str = ""
    optional_value: bool = False  # None is allowed (the field may be left empty)
    minimum: float | None = None
    maximum: float | None = None


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without `| None`, and whether None was allowed."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        return (args[0] if len(args) == 1 else annotation), optional
    return annotation, False


def _bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    low = high = None
    for meta in info.metadata:
        low = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else low
        high = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else high
    return low, high


def _max_length(info: FieldInfo) -> int | None:
    return next((int(m.max_length) for m in info.metadata if getattr(m, "max_length", None)), None)


def form_fields(model: type[BaseModel]) -> list[FormField]:
    """One form field per input field, in declaration order."""
    fields = []
    for name, info in model.model_fields.items():
        annotation, optional = _unwrap(info.annotation)
        label = name.replace("_", " ").capitalize()
        help_text = info.description or ""
        required = info.is_required()
        low, high = _bounds(info)
        origin = typing.get_origin(annotation)
        kind: Kind
        options: tuple[Any, ...] = ()
        if origin is Literal:
            kind, options = "choice", typing.get_args(annotation)
        elif annotation is bool:
            kind = "flag"
        elif annotation is int:
            kind = "integer"
        elif annotation is float:
            kind = "number"
        elif annotation is date:
            kind = "date"
        elif origin in (list, tuple):
            kind = "list"
        else:
            kind = "long_text" if (_max_length(info) or 0) > 300 else "text"
        fields.append(FormField(name, label, kind, required, options, help_text, optional, low, high))
    return fields


def to_arguments(fields: list[FormField], raw: dict[str, Any]) -> dict[str, Any]:
    """The form's values as tool arguments: lists from one-per-line text, empty optional values dropped."""
    arguments: dict[str, Any] = {}
    for f in fields:
        value = raw.get(f.name)
        if f.kind == "list":
            text = value if isinstance(value, str) else "\n".join(str(v) for v in value or [])
            value = [line.strip() for line in text.splitlines() if line.strip()]
        elif f.kind in ("text", "long_text"):
            value = (value or "").strip()
            if not value and not f.required:
                value = None
        elif f.kind == "date" and isinstance(value, date):
            value = value.isoformat()
        if value is None and not f.required:
            continue
        arguments[f.name] = value
    return arguments


def from_arguments(fields: list[FormField], arguments: dict[str, Any]) -> dict[str, Any]:
    """The widgets' starting values from an action's current arguments."""
    values: dict[str, Any] = {}
    for f in fields:
        value = arguments.get(f.name)
        if f.kind == "list":
            values[f.name] = "\n".join(str(v) for v in value or [])
        elif f.kind == "date" and isinstance(value, str):
            values[f.name] = date.fromisoformat(value)
        elif f.kind in ("text", "long_text"):
            values[f.name] = "" if value is None else str(value)
        else:
            values[f.name] = value
    return values
