"""Engine set-up: URL mapping, SQLite pragmas, defaults, and what a Store exposes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from app.config import Settings
from app.store import LATEST_VERSION, Store, normalize_url
from app.store.types import as_utc


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///data/a.db", "sqlite:///data/a.db"),
    ],
)
def test_normalize_url_maps_plain_postgresql_to_psycopg(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


def test_sqlite_file_is_wal_with_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'a.db'}") as store:
        assert (tmp_path / "nested" / "dir" / "a.db").exists()  # parent folders created
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000


def test_in_memory_sqlite_works_for_single_threaded_use() -> None:
    with Store("sqlite://") as store:
        conversation = store.conversations.create("u1")
        store.conversations.append_message(conversation.id, "user", [{"type": "text", "text": "hi"}])
        assert store.conversations.count_messages(conversation.id) == 1


def test_from_settings_uses_a_sqlite_file_in_data_dir_by_default(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=None)
    with Store.from_settings(settings) as store:
        assert store.dialect == "sqlite"
        assert store.schema_version() == LATEST_VERSION
    assert (tmp_path / "assistant.db").exists()


@pytest.mark.postgres
def test_plain_postgresql_url_opens_with_psycopg_and_safe_url_hides_the_password(postgres_url: str) -> None:
    # Trust auth ignores the password, which lets the test put one in the URL.
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://").replace("@", ":s3cret@", 1)
    with Store(plain) as store:
        assert store.engine.dialect.driver == "psycopg"
        assert "s3cret" not in store.safe_url and "***" in store.safe_url
        assert store.schema_version() == LATEST_VERSION


def test_the_store_uses_the_injected_clock(tmp_path: Path) -> None:
    fixed = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    with Store(f"sqlite:///{tmp_path / 'a.db'}", clock=lambda: fixed) as store:
        conversation = store.conversations.create("u1")
        assert conversation.created_at == fixed
        message = store.conversations.append_message(conversation.id, "user", [])
        assert message.created_at == fixed


def test_timestamps_come_back_aware_utc_whatever_zone_went_in(store: Store) -> None:
    plus_two = timezone(timedelta(hours=2))
    written = datetime(2026, 11, 25, 14, 30, tzinfo=plus_two)
    record = store.usage.add(provider="p", model="m", at=written, user_id="u")
    (stored,) = store.usage.list(user_id="u")
    assert stored.at == written  # same instant
    assert stored.at.tzinfo == UTC and stored.at.hour == 12
    assert record.at == stored.at


def test_naive_datetimes_are_taken_as_utc() -> None:
    assert as_utc(datetime(2026, 1, 1, 12)) == datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_money_round_trips_to_ten_places(store: Store) -> None:
    exact = Decimal("1234.0123456789")
    assert store.usage.add(provider="p", model="m", cost_usd=exact).cost_usd == exact
    rounded = store.usage.add(provider="p", model="m", cost_usd=Decimal("0.00000000004")).cost_usd
    assert rounded == Decimal("0E-10")
