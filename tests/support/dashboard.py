"""What the dashboard tiers (ui/ with AppTest, e2e/ with a real browser) share: a sandbox database
seeded once per session (seeding hashes passwords, slowly on purpose) and an index of the
sandbox's own code and docs, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexing.builder import IndexBuilder
from indexing.embedder import shared_embedder
from sandbox.app import create_app
from sandbox.settings import DEFAULT_PLATFORM_CONFIG, SandboxSettings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def seeded_sandbox_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seeded-platform") / "sandbox.db"
    settings = SandboxSettings(database_url=f"sqlite:///{path}", platform_config=DEFAULT_PLATFORM_CONFIG)
    engine = create_app(settings).state.sandbox.engine
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def sandbox_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("sandbox-index") / "index"
    IndexBuilder(index, lambda: shared_embedder()).build(REPO / "sandbox")
    return index
