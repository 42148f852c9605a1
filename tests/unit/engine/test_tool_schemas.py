"""The JSON schemas the model sees are generated from the tools' pydantic inputs.

jsonschema is not installed, so `check_schema` checks the structure by hand: only known keywords,
valid types, `required` naming real properties, no `$ref`, no `title`, enums inlined.
"""

from __future__ import annotations

import enum
import re
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from app.tools.base import REPLACES_KEY, ToolInput, json_schema
from app.tools.catalog import default_registry

TYPES = {"object", "array", "string", "integer", "number", "boolean", "null"}
KEYWORDS = {
    "type", "properties", "required", "additionalProperties", "items", "anyOf", "enum", "const",
    "default", "description", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems",
    "pattern", "format", "exclusiveMinimum", "exclusiveMaximum",
}  # fmt: skip
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # what Anthropic and OpenAI accept


def check_schema(node: Any, where: str = "$") -> None:
    assert isinstance(node, dict), f"{where}: a schema must be an object"
    unknown = set(node) - KEYWORDS
    assert not unknown, f"{where}: unknown keywords {unknown}"
    if "type" in node:
        kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
        assert set(kinds) <= TYPES, f"{where}: bad type {node['type']}"
    assert "type" in node or "anyOf" in node or "enum" in node, f"{where}: says nothing about its type"
    if "properties" in node:
        assert isinstance(node["properties"], dict)
        for name, sub in node["properties"].items():
            check_schema(sub, f"{where}.{name}")
    if "required" in node:
        assert isinstance(node["required"], list) and all(isinstance(r, str) for r in node["required"])
        missing = set(node["required"]) - set(node.get("properties", {}))
        assert not missing, f"{where}: required names no property: {missing}"
    if "items" in node:
        check_schema(node["items"], f"{where}[]")
    for i, sub in enumerate(node.get("anyOf", [])):
        check_schema(sub, f"{where}|{i}")
    if "enum" in node:
        assert node["enum"] and len(set(map(str, node["enum"]))) == len(node["enum"])
        if "default" in node and node["default"] is not None:
            assert node["default"] in node["enum"], f"{where}: default not among the enum"
    for bound in ("minLength", "maxLength", "minItems", "maxItems"):
        if bound in node:
            assert isinstance(node[bound], int) and node[bound] >= 0
    if "additionalProperties" in node:
        assert isinstance(node["additionalProperties"], bool)


class Level(enum.StrEnum):
    beginner = "beginner"
    advanced = "advanced"


class Owner(BaseModel):
    email: str = Field(description="who owns it")


class Sample(ToolInput):
    title: str = Field(min_length=1, description="a field that happens to be called title")
    level: Level
    owner: Owner
    co_owners: list[Owner] = Field(default_factory=list)
    size: Literal["s", "m"] | None = None


def test_json_schema_inlines_refs_drops_titles_and_keeps_required() -> None:
    schema = json_schema(Sample)
    text = repr(schema)
    assert "$ref" not in text and "$defs" not in text
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["title", "level", "owner"]
    props = schema["properties"]
    assert props["level"] == {"enum": ["beginner", "advanced"], "type": "string"}
    assert props["owner"]["properties"]["email"] == {"description": "who owns it", "type": "string"}
    assert props["owner"]["required"] == ["email"]
    assert props["co_owners"]["items"]["properties"]["email"]["type"] == "string"
    assert {"enum": ["s", "m"], "type": "string"} in props["size"]["anyOf"]
    check_schema(schema)


def test_a_property_named_title_is_kept() -> None:
    """Only the `title` keyword is dropped, never a field called title (find_course, create_course)."""
    schema = json_schema(Sample)
    assert schema["properties"]["title"] == {
        "description": "a field that happens to be called title",
        "minLength": 1,
        "type": "string",
    }


def test_a_model_without_fields_gets_an_empty_object_schema() -> None:
    class Nothing(ToolInput):
        pass

    assert json_schema(Nothing) == {"additionalProperties": False, "properties": {}, "type": "object"}


@pytest.mark.parametrize("tool", list(default_registry()), ids=lambda t: t.name)
def test_every_tool_spec_is_a_valid_schema_of_its_input(tool: Any) -> None:
    spec = tool.spec()
    assert TOOL_NAME.match(spec.name)
    assert spec.description.strip()
    schema = spec.input_schema
    check_schema(schema)
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert "title" not in schema
    # the schema describes exactly the fields the input model validates, and a write also takes
    # the id of the waiting proposal it replaces (handled by the registry, never an argument)
    extra = {REPLACES_KEY} if tool.needs_approval else set()
    assert set(schema["properties"]) == set(tool.input_model.model_fields) | extra
    required = {n for n, f in tool.input_model.model_fields.items() if f.is_required()}
    assert set(schema.get("required", [])) == required


def test_risk_is_stated_in_the_descriptions_of_writes_and_deletes() -> None:
    registry = default_registry()
    create = registry.get("create_track")
    delete = registry.get("delete_project")
    search = registry.get("search_docs")
    assert create is not None and delete is not None and search is not None
    assert "approves it before it runs" in create.spec().description
    assert "type the resource's name" in delete.spec().description
    assert "approve" not in search.spec().description


def test_a_schema_is_computed_once_per_model_and_handed_out_as_a_fresh_copy() -> None:
    """Every turn lists every tool's schema; callers add keys to what they get (replaces_action_id)."""

    class Once(BaseModel):
        name: str = Field(description="A name.")

    first = json_schema(Once)
    first["properties"]["extra"] = {"type": "string"}
    second = json_schema(Once)
    assert "extra" not in second["properties"] and second == {
        **first,
        "properties": {"name": second["properties"]["name"]},
    }
    tool = default_registry().get("create_track")
    assert tool is not None and REPLACES_KEY in tool.spec().input_schema["properties"]
    assert REPLACES_KEY not in json_schema(tool.input_model)["properties"]
