"""Every tool the assistant knows, in one registry."""

from __future__ import annotations

from app.tools.destructive import DESTRUCTIVE_TOOLS
from app.tools.lookups import LOOKUP_TOOLS
from app.tools.registry import ToolRegistry
from app.tools.writes import WRITE_TOOLS


def default_registry() -> ToolRegistry:
    return ToolRegistry([*LOOKUP_TOOLS, *WRITE_TOOLS, *DESTRUCTIVE_TOOLS])
