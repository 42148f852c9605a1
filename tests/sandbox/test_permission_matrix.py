"""The role x endpoint permission matrix, and proof that every protected route checks a permission."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from sandbox.shared.auth import RequirePermissions
from tests.sandbox.cases import CASES, PUBLIC_ROUTES, Case
from tests.sandbox.helpers import ROLE_ACTORS, Api, assert_error

MATRIX = [(case, role) for case in CASES for role in ROLE_ACTORS]


@pytest.mark.parametrize(("case", "role"), MATRIX, ids=[f"{c.id} as {r}" for c, r in MATRIX])
def test_role_gets_expected_status(api: Api, case: Case, role: str) -> None:
    expected = case.expected[role]
    before = api.snapshot() if expected >= 400 else None
    response = api.call(case.method, case.path, ROLE_ACTORS[role], json=case.body, params=case.params)
    assert response.status_code == expected, (case.id, role, response.text)
    if before is not None:
        body = response.json()
        assert body["rule"] in ("permission_denied", "not_course_owner"), body
        assert api.snapshot() == before, "a refused request changed the database"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_anonymous_gets_401_and_changes_nothing(api: Api, case: Case) -> None:
    before = api.snapshot()
    response = api.call(case.method, case.path, None, json=case.body, params=case.params)
    assert_error(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    assert api.snapshot() == before


def test_matrix_covers_every_endpoint_of_the_openapi_document(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").json()
    operations = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    covered = {(case.method, case.route) for case in CASES}
    assert operations - PUBLIC_ROUTES == covered


def test_every_protected_route_declares_a_permission_check(api: Api) -> None:
    unchecked = []
    for route in api.app.routes:
        if not isinstance(route, APIRoute) or not route.path.startswith("/api/v1"):
            continue
        if any((method, route.path) in PUBLIC_ROUTES for method in route.methods or ()):
            continue
        checks = [d.call for d in route.dependant.dependencies if isinstance(d.call, RequirePermissions)]
        if not checks:
            unchecked.append(route.path)
    assert unchecked == []
