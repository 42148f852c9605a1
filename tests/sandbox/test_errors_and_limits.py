"""Invalid and oversized bodies, unknown routes and pages: always the one JSON error shape."""

from __future__ import annotations

from collections.abc import Iterator

from sandbox.shared.models import Project
from tests.sandbox.helpers import NW, Api, assert_error, org_id, project_id

ORG = org_id(NW)
PROJECTS = f"/organizations/{ORG}/projects"
MB = 1_048_576


def test_missing_and_wrong_typed_fields_name_the_field(api: Api) -> None:
    missing = api.post(PROJECTS, "nw_admin", json={"description": "A long enough text."})
    body = assert_error(missing, 422, "missing", "name")
    assert body["errors"][0]["field"] == "name" and body["detail"].startswith("name:")
    wrong = api.post(
        PROJECTS, "nw_admin", json={"name": "Okay", "description": "long enough text", "duration_weeks": "x"}
    )
    assert_error(wrong, 422, "int_parsing", "duration_weeks")
    nested = api.post(
        "/tracks/",
        "nw_admin",
        json={"name": "Ok", "project_id": str(project_id(NW, "x")), "prerequisites": [1]},
    )
    assert_error(nested, 422, "string_type", "prerequisites.0")


def test_malformed_json_and_wrong_content(api: Api) -> None:
    broken = api.post(
        PROJECTS, "nw_admin", content=b'{"name": "x",', headers={"content-type": "application/json"}
    )
    assert_error(broken, 422, "json_invalid")
    array = api.post(PROJECTS, "nw_admin", json=["not", "an", "object"])
    assert_error(array, 422, "model_attributes_type")
    assert api.count(Project) == 5


def test_path_and_query_validation(api: Api) -> None:
    assert_error(api.get("/projects/not-a-uuid", "nw_admin"), 422, "uuid_parsing", "project_id")
    assert_error(api.get(PROJECTS, "nw_admin", params={"limit": 0}), 422, "greater_than_equal", "limit")
    assert_error(api.get(PROJECTS, "nw_admin", params={"limit": 201}), 422, "page_size_too_large", "limit")
    assert_error(api.get(PROJECTS, "nw_admin", params={"offset": -1}), 422, "greater_than_equal", "offset")


def test_unknown_routes_and_methods_use_the_error_shape(api: Api) -> None:
    assert_error(api.get("/no/such/route", "nw_admin"), 404, "not_found", None)
    assert_error(
        api.call("PATCH", f"/projects/{project_id(NW, 'x')}", "nw_admin"), 405, "method_not_allowed", None
    )


def test_oversized_body_is_413_before_anything_runs(api: Api) -> None:
    before = api.snapshot()
    big = {"name": "Huge", "description": "x" * (MB + 10)}
    response = api.post(PROJECTS, "nw_admin", json=big)
    body = assert_error(response, 413, "body_too_large", None)
    assert "1048576" in body["detail"]
    assert api.snapshot() == before


def test_oversized_chunked_body_without_content_length_is_413(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "Huge", "description": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = api.post(PROJECTS, "nw_admin", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "body_too_large", None)
    assert api.count(Project) == 5


def test_body_just_under_the_limit_is_accepted_by_the_limit(api: Api) -> None:
    # accepted by the size limit, then refused by the field's own maximum: 422, not 413
    response = api.post(PROJECTS, "nw_admin", json={"name": "Big", "description": "x" * (MB - 100)})
    assert_error(response, 422, "string_too_long", "description")


def test_health_and_openapi_need_no_token(api: Api) -> None:
    health = api.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok" and health.json()["database"] == "ok"
    spec = api.client.get("/openapi.json")
    assert spec.status_code == 200 and spec.json() == api.get("/openapi.json").json()
    assert "bearer" in str(spec.json()["components"]["securitySchemes"]).lower()


def test_an_offset_past_any_database_integer_is_400(api: Api) -> None:
    huge = api.get(PROJECTS, "nw_admin", params={"offset": "99999999999999999999"})
    assert_error(huge, 400, "offset_out_of_range", "offset")
    assert api.get(PROJECTS, "nw_admin", params={"offset": 2**31 - 1}).json()["items"] == []


def test_control_characters_in_text_are_refused(api: Api) -> None:
    for name in ("Data\x00Science", "Esc\x1b[31mape", "Bell\x07"):
        refused = api.post(PROJECTS, "nw_admin", json={"name": name, "description": "A long enough text."})
        body = assert_error(refused, 422, "control_characters", "name")
        assert "U+00" in body["detail"]
    listed = api.post(
        PROJECTS,
        "nw_admin",
        json={"name": "Fine name", "description": "A long enough text.", "target_roles": ["ok", "b\x00d"]},
    )
    assert_error(listed, 422, "control_characters", "target_roles")
    multiline = api.post(
        PROJECTS, "nw_admin", json={"name": "Fine name", "description": "Line one\n\tline two, indented."}
    )
    assert multiline.status_code == 201, multiline.text
    assert api.count(Project) == 6
