"""Config chunking: YAML/TOML/INI/JSON by top-level block; OpenAPI specs by path."""

from __future__ import annotations

import json

from indexing.chunk import Sizer
from indexing.chunkers import pieces_for
from indexing.tokens import TokenCounter

from .helpers import check_invariants, chunk, line_of, src

SETTINGS_YAML = src(
    """
    # Platform settings
    server:
      host: 0.0.0.0
      port: 8000

    # Limits applied per organization
    limits:
      max_projects_per_org: 25
      max_tracks_per_project: 40
      login_attempts_per_minute: 5

    features:
      - analytics
      - ai_assistant
    "quoted.key": 1
    """
)


def _pieces(kind: str, text: str) -> list[tuple[str, str, int, int]]:
    return [(p.unit, p.symbol, p.start, p.end) for p in pieces_for(kind, text, text.splitlines())]


def test_yaml_top_level_keys_with_the_comments_above_them() -> None:
    assert _pieces("yaml", SETTINGS_YAML) == [
        ("block", "server", 1, 5),
        (
            "block",
            "limits",
            line_of(SETTINGS_YAML, "# Limits applied"),
            line_of(SETTINGS_YAML, "features:") - 1,
        ),
        ("block", "features", line_of(SETTINGS_YAML, "features:"), line_of(SETTINGS_YAML, "quoted.key") - 1),
        ("block", "quoted.key", line_of(SETTINGS_YAML, "quoted.key"), len(SETTINGS_YAML.splitlines())),
    ]


def test_small_yaml_blocks_merge_into_one_chunk_naming_every_key(sizer: Sizer, counter: TokenCounter) -> None:
    chunks = chunk("config/settings.yaml", "yaml", SETTINGS_YAML, sizer)
    check_invariants(chunks, SETTINGS_YAML, "config/settings.yaml", "yaml", counter)
    assert [(c.unit, c.symbol, c.start_line, c.end_line) for c in chunks] == [
        ("block", "server, limits, features, quoted.key", 1, len(SETTINGS_YAML.splitlines()))
    ]


def test_large_yaml_blocks_stay_apart(sizer: Sizer, counter: TokenCounter) -> None:
    roles = "\n".join(
        f"  role_{i}:\n    can_publish_tracks: {i % 2 == 0}\n    max_courses: {i * 3}" for i in range(30)
    )
    text = f"roles:\n{roles}\nlimits:\n  max_projects_per_org: 25\n"
    chunks = chunk("config/rbac.yaml", "yaml", text, sizer)
    check_invariants(chunks, text, "config/rbac.yaml", "yaml", counter)
    symbols = [c.symbol for c in chunks]
    assert symbols[-1] == "limits"
    assert set(symbols[:-1]) == {"roles"} and len(symbols) >= 3  # the big block is cut into parts
    assert [c.metadata["part"] for c in chunks[:-1]] == [
        f"{i}/{len(chunks) - 1}" for i in range(1, len(chunks))
    ]


def test_toml_tables_and_the_preamble() -> None:
    text = src(
        """
        title = "platform"

        [tool.ruff]
        line-length = 100

        [[tool.items]]
        name = "a"
        """
    )
    assert _pieces("toml", text) == [
        ("block", "", 1, 2),
        ("block", "tool.ruff", 3, 5),
        ("block", "tool.items", 6, 7),
    ]


def test_ini_sections() -> None:
    text = src(
        """
        ; global options
        debug = true

        [database]
        host = localhost
        port = 5432

        [cache] ; in memory
        ttl = 60
        """
    )
    assert _pieces("ini", text) == [
        ("block", "", 1, 3),
        ("block", "database", 4, 7),
        ("block", "cache", 8, 9),
    ]


def test_json_top_level_keys() -> None:
    text = json.dumps(
        {
            "name": "frontend",
            "version": "1.0.0",
            "scripts": {"build": "vite build"},
            "dependencies": {"react": "18"},
        },
        indent=2,
    )
    assert _pieces("json", text) == [
        ("block", "name", 1, 2),
        ("block", "version", 3, 3),
        ("block", "scripts", 4, 6),
        ("block", "dependencies", 7, 10),
    ]


def test_invalid_json_falls_back_to_lines(sizer: Sizer) -> None:
    text = '{\n  "name": "x",\n  oops\n}\n'
    assert _pieces("json", text) == [("lines", "", 1, 4)]
    assert [c.unit for c in chunk("bad.json", "json", text, sizer)] == ["lines"]


OPENAPI_YAML = src(
    """
    openapi: 3.0.3
    info:
      title: Course Creator API
      version: "1.0"
    paths:
      /api/v1/tracks:
        get:
          summary: List tracks of a project
        post:
          summary: Create a track
      /api/v1/tracks/{id}/enroll:
        post:
          summary: Enroll students into a track
      "/api/v1/health":
        get:
          summary: Liveness
    components:
      schemas:
        Track:
          type: object
    """
)


def test_openapi_yaml_gives_one_piece_per_path_with_its_routes(sizer: Sizer, counter: TokenCounter) -> None:
    assert _pieces("yaml", OPENAPI_YAML) == [
        ("block", "openapi", 1, 5),
        ("operation", "/api/v1/tracks", 6, 10),
        ("operation", "/api/v1/tracks/{id}/enroll", 11, 13),
        ("operation", "/api/v1/health", 14, len(OPENAPI_YAML.splitlines())),
    ]
    chunks = chunk("api/openapi.yaml", "yaml", OPENAPI_YAML, sizer)
    check_invariants(chunks, OPENAPI_YAML, "api/openapi.yaml", "yaml", counter)
    routes = {c.symbol: c.metadata.get("route") for c in chunks}
    assert routes == {
        "openapi": None,
        "/api/v1/tracks": "GET|POST /api/v1/tracks",
        "/api/v1/tracks/{id}/enroll": "POST /api/v1/tracks/{id}/enroll",
        "/api/v1/health": "GET /api/v1/health",
    }
    enroll = next(c for c in chunks if c.symbol == "/api/v1/tracks/{id}/enroll")
    assert enroll.unit == "operation"
    assert (
        enroll.header == "api/openapi.yaml :: /api/v1/tracks/{id}/enroll :: [POST /api/v1/tracks/{id}/enroll]"
    )


def test_openapi_json_spec(sizer: Sizer) -> None:
    spec = {
        "openapi": "3.0.0",
        "info": {"title": "x"},
        "paths": {"/api/v1/users": {"get": {"summary": "List"}, "delete": {}}, "/api/v1/orgs": {"post": {}}},
    }
    text = json.dumps(spec, indent=2)
    assert [(u, s) for u, s, _, _ in _pieces("json", text)] == [
        ("block", "openapi"),
        ("operation", "/api/v1/users"),
        ("operation", "/api/v1/orgs"),
    ]
    routes = [c.metadata.get("route") for c in chunk("openapi.json", "json", text, sizer)]
    assert routes == [None, "GET|DELETE /api/v1/users", "POST /api/v1/orgs"]


def test_a_yaml_file_that_only_mentions_openapi_is_plain_config() -> None:
    text = "openapi: not really\nlimits:\n  max: 3\n"
    assert [s for _, s, _, _ in _pieces("yaml", text)] == ["openapi", "limits"]
