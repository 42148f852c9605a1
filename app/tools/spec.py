"""What a model is told about a tool, independent of any provider's wire format.

It lives with the tools (they generate it from their pydantic input) and not with the providers,
so that providers depend on the tools' description and never the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool's name, description and JSON schema (generated from the tool's pydantic input)."""

    name: str
    description: str
    input_schema: dict[str, Any]
