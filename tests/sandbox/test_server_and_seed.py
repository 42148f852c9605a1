"""Real HTTP in a thread, surviving a restart, the CLI, and deterministic seeding."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from sandbox.__main__ import main
from sandbox.seed import DEMO_LOGINS
from sandbox.server import start_in_thread
from sandbox.settings import SandboxSettings
from tests.sandbox.helpers import NW, TEST_SECRET

ADMIN_EMAIL, ADMIN_PASSWORD = DEMO_LOGINS[NW]["organization_admin"]


def settings_for(path: Path) -> SandboxSettings:
    return SandboxSettings(database_url=f"sqlite:///{path}", jwt_secret=TEST_SECRET)


def login(client: httpx.Client, base_url: str) -> dict[str, str]:
    response = client.post(f"{base_url}/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def table_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as connection:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: connection.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_start_in_thread_serves_real_http_on_a_free_port(tmp_path: Path) -> None:
    with start_in_thread(settings_for(tmp_path / "fresh.db")) as sandbox:
        assert sandbox.base_url.startswith("http://127.0.0.1:") and sandbox.base_url.endswith("/api/v1")
        assert sandbox.port > 0 and sandbox.running
        with httpx.Client(timeout=10) as client:
            assert client.get(f"{sandbox.base_url}/health").json()["status"] == "ok"
            headers = login(client, sandbox.base_url)
            me = client.get(f"{sandbox.base_url}/users/me", headers=headers)
            assert me.status_code == 200 and me.json()["email"] == ADMIN_EMAIL
            spec = client.get(f"{sandbox.base_url}/openapi.json")
            assert spec.status_code == 200 and "/api/v1/tracks/" in spec.json()["paths"]
    assert not sandbox.running
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{sandbox.base_url}/health", timeout=1)


def test_database_survives_a_restart_and_is_not_reseeded(tmp_path: Path) -> None:
    path = tmp_path / "persist.db"
    with start_in_thread(settings_for(path)) as first, httpx.Client(timeout=10) as client:
        headers = login(client, first.base_url)
        org = client.get(f"{first.base_url}/users/me", headers=headers).json()["organization_id"]
        project = client.post(
            f"{first.base_url}/organizations/{org}/projects",
            json={"name": "Survives Restarts", "description": "Written before the restart."},
            headers=headers,
        ).json()
        invited = client.post(
            f"{first.base_url}/rbac/organizations/{org}/members",
            json={"user_email": "kept@northwind-academy.example", "role_type": "student"},
            headers=headers,
        )
        assert invited.status_code == 201
    counts = table_counts(path)
    with start_in_thread(settings_for(path)) as second, httpx.Client(timeout=10) as client:
        headers = login(client, second.base_url)
        again = client.get(f"{second.base_url}/projects/{project['id']}", headers=headers)
        assert again.status_code == 200 and again.json()["name"] == "Survives Restarts"
        members = client.get(
            f"{second.base_url}/rbac/organizations/{org}/members",
            headers=headers,
            params={"status": "pending"},
        ).json()
        assert "kept@northwind-academy.example" in {m["email"] for m in members["items"]}
    after = table_counts(path)
    assert after["projects"] == counts["projects"] and after["users"] == counts["users"]
    assert after["organizations"] == 2


def test_seed_command_is_deterministic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cli.db"
    url = f"sqlite:///{path}"
    assert main(["seed", "--database-url", url]) == 0
    assert "Database seeded." in capsys.readouterr().out

    def snapshot() -> list[tuple[str, ...]]:
        with sqlite3.connect(path) as connection:
            rows = connection.execute(
                "SELECT u.id, u.email, u.full_name, o.name FROM users u "
                "LEFT JOIN memberships m ON m.user_id = u.id LEFT JOIN organizations o ON o.id = m.organization_id "
                "UNION ALL SELECT t.id, t.name, p.name, t.difficulty_level FROM tracks t JOIN projects p ON p.id = t.project_id "
                "ORDER BY 1"
            )
            return [tuple(map(str, row)) for row in rows]

    first = snapshot()
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM tracks WHERE name = 'Deep Learning Systems'")
    assert main(["seed", "--database-url", url]) == 0
    assert "already has data" in capsys.readouterr().out
    assert main(["seed", "--reset", "--database-url", url]) == 0
    output = capsys.readouterr().out
    assert "reset and seeded" in output and ADMIN_EMAIL in output
    assert snapshot() == first and len(first) > 20


def test_first_start_on_an_empty_database_creates_and_seeds_it(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "folder" / "new.db"
    with start_in_thread(settings_for(path)):
        pass
    counts = table_counts(path)
    assert counts["organizations"] == 2 and counts["users"] == 21 and counts["tracks"] == 9
    unseeded = tmp_path / "empty.db"
    with start_in_thread(settings_for(unseeded).model_copy(update={"seed_on_start": False})):
        pass
    assert table_counts(unseeded)["organizations"] == 0
