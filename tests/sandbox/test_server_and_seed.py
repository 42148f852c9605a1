"""Real HTTP in a thread, surviving a restart, the CLI, and deterministic seeding."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from sandbox.__main__ import main
from sandbox.app import create_app
from sandbox.seed import DEMO_LOGINS, UNVERIFIED_INSTRUCTORS, seed_id
from sandbox.server import start_in_thread
from sandbox.settings import PUBLISHED_DEVELOPMENT_SECRET, SandboxSettings
from sandbox.shared.security import issue_token
from sandbox.shared.signing_key import InsecureSigningKey
from tests.sandbox.helpers import NW, TEST_SECRET, org_id

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


@pytest.mark.parametrize(
    ("secret", "said"),
    [
        (None, "is not set"),
        (PUBLISHED_DEVELOPMENT_SECRET, "published development key"),
        ("short-secret", "needs at least 32"),
    ],
)
def test_serving_off_loopback_needs_a_real_signing_key(tmp_path: Path, secret: str | None, said: str) -> None:
    settings = SandboxSettings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}", host="0.0.0.0", jwt_secret=secret
    )
    with pytest.raises(InsecureSigningKey, match="SANDBOX_JWT_SECRET") as refused:
        create_app(settings)
    assert said in str(refused.value) and "0.0.0.0" in str(refused.value)
    assert not (tmp_path / "x.db").exists()  # refused before touching the database


def test_the_cli_refuses_with_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["serve", "--host", "0.0.0.0", "--database-url", f"sqlite:///{tmp_path / 'x.db'}"])
    assert code == 2
    assert "error: SANDBOX_JWT_SECRET is not set" in capsys.readouterr().err


def test_without_a_key_each_database_generates_and_keeps_its_own(tmp_path: Path) -> None:
    def key_of(name: str) -> str:
        app = create_app(SandboxSettings(database_url=f"sqlite:///{tmp_path / name}", seed_on_start=False))
        app.state.sandbox.engine.dispose()
        return str(app.state.sandbox.jwt_secret)

    first = key_of("a.db")
    assert len(first) >= 48 and first != PUBLISHED_DEVELOPMENT_SECRET
    assert key_of("a.db") == first  # kept across restarts
    assert key_of("b.db") != first  # never shared between databases


def test_a_token_signed_with_the_published_key_is_refused(tmp_path: Path) -> None:
    with start_in_thread(SandboxSettings(database_url=f"sqlite:///{tmp_path / 's.db'}")) as sandbox:
        forged, _ = issue_token(
            secret=PUBLISHED_DEVELOPMENT_SECRET,
            user_id=seed_id("user", "maya.patel@northwind-academy.example"),
            role="organization_admin",
            organization_id=org_id(NW),
            ttl_minutes=10,
        )
        response = httpx.get(
            f"{sandbox.base_url}/organizations/{org_id(NW)}/projects",
            headers={"Authorization": f"Bearer {forged}"},
        )
        assert response.status_code == 401 and response.json()["rule"] == "invalid_token"
        login = httpx.post(
            f"{sandbox.base_url}/auth/login",
            json={
                "email": DEMO_LOGINS[NW]["organization_admin"][0],
                "password": DEMO_LOGINS[NW]["organization_admin"][1],
            },
        )
        assert login.status_code == 200, login.text


def test_verification_tokens_are_shown_only_by_the_seed_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No token in the docs or the source; the operator's seed command prints working ones."""
    shipped = [*Path("sandbox").rglob("*.md"), *Path("sandbox").rglob("*.py"), Path("README.md")]
    assert not [p for p in shipped if "demo-verify" in p.read_text(encoding="utf-8")]
    url = f"sqlite:///{tmp_path / 'v.db'}"
    assert main(["seed", "--database-url", url]) == 0
    first = capsys.readouterr().out
    assert main(["seed", "--database-url", url]) == 0
    second = capsys.readouterr().out
    email = UNVERIFIED_INSTRUCTORS[NW]
    old_token = next(line.split()[-1] for line in first.splitlines() if email in line and "#" not in line)
    new_token = next(line.split()[-1] for line in second.splitlines() if email in line and "#" not in line)
    assert old_token != new_token
    with start_in_thread(SandboxSettings(database_url=url)) as sandbox:
        verify = f"{sandbox.base_url}/auth/verify-email"
        stale = httpx.post(verify, json={"token": old_token, "password": "Teach-Data-2025"})
        assert stale.status_code == 422 and stale.json()["rule"] == "verification_token_invalid"
        fresh = httpx.post(verify, json={"token": new_token, "password": "Teach-Data-2025"})
        assert fresh.status_code == 200, fresh.text
