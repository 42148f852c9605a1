"""Schema creation, migration and restart persistence, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, inspect, text

from app.store import LATEST_VERSION, SchemaError, Store, normalize_url
from app.store.migrations import MIGRATIONS
from app.store.models import QUERY_INDEXES
from tests.support.concurrency import race


def index_names(url: str) -> set[str]:
    engine = create_engine(normalize_url(url))
    try:
        inspector = inspect(engine)
        return {
            str(index["name"])
            for table in inspector.get_table_names()
            for index in inspector.get_indexes(table)
        }
    finally:
        engine.dispose()


def version_rows(url: str) -> list[tuple[int, str]]:
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version, description FROM schema_version ORDER BY version"))
            return [(int(v), str(d)) for v, d in rows]
    finally:
        engine.dispose()


def test_a_fresh_database_is_created_at_the_latest_version(database_url: str) -> None:
    with Store(database_url) as store:
        assert store.migration.created and store.migration.from_version == 0
        assert store.schema_version() == LATEST_VERSION
    assert [v for v, _ in version_rows(database_url)] == list(range(1, LATEST_VERSION + 1))
    assert set(QUERY_INDEXES) <= index_names(database_url)


def test_opening_twice_changes_nothing(database_url: str) -> None:
    with Store(database_url):
        pass
    before = version_rows(database_url)
    with Store(database_url) as again:
        assert not again.migration.created and again.migration.applied == ()
        assert again.migration.from_version == again.migration.to_version == LATEST_VERSION
    assert version_rows(database_url) == before


def test_a_database_at_version_1_is_migrated(database_url: str) -> None:
    """Rebuild what a version 1 database looks like (no query indexes, no turns), then open it."""
    with Store(database_url) as store:
        kept = store.conversations.create("u1", "o1", title="from version 1")
    engine = create_engine(normalize_url(database_url))
    with engine.begin() as conn:
        for name in QUERY_INDEXES:
            conn.execute(text(f"DROP INDEX {name}"))
        for table in ("turn_events", "turns", "web_sessions", "directory", "eval_runs"):
            conn.execute(text(f"DROP TABLE {table}"))
        conn.execute(text("ALTER TABLE pending_actions DROP COLUMN changes"))
        conn.execute(text("DELETE FROM schema_version WHERE version > 1"))
    engine.dispose()
    assert not set(QUERY_INDEXES) & index_names(database_url)

    with Store(database_url) as store:
        assert store.migration.from_version == 1
        assert store.migration.applied == tuple(m.version for m in MIGRATIONS)
        assert store.schema_version() == LATEST_VERSION
    assert set(QUERY_INDEXES) <= index_names(database_url)
    assert "ux_turns_one_running" in index_names(database_url)
    assert [v for v, _ in version_rows(database_url)] == list(range(1, LATEST_VERSION + 1))
    with Store(database_url) as store:  # the old rows are there and the new tables work
        assert store.conversations.get(kept.id) is not None
        turn = store.turns.start(kept.id, user_id="u1", organization_id="o1", kind="message", label="hi")
        assert store.turns.get(turn.id) is not None


def test_a_database_newer_than_the_code_is_refused(database_url: str) -> None:
    with Store(database_url):
        pass
    engine = create_engine(normalize_url(database_url))
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO schema_version (version, description, applied_at) VALUES (:v, 'future', :at)"),
            {"v": LATEST_VERSION + 1, "at": datetime.now(UTC).replace(tzinfo=None)},
        )
    engine.dispose()
    with pytest.raises(SchemaError, match="newer"):
        Store(database_url)


def test_tables_without_a_schema_version_are_refused(database_url: str) -> None:
    with Store(database_url):
        pass
    engine = create_engine(normalize_url(database_url))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE schema_version"))
    engine.dispose()
    with pytest.raises(SchemaError, match="no schema version"):
        Store(database_url)


def test_everything_survives_a_restart(database_url: str) -> None:
    at = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    with Store(database_url) as store:
        conversation = store.conversations.create("u1", "o1", title="Persisted ✓")
        store.conversations.append_message(
            conversation.id, "user", [{"type": "text", "text": "Créer une piste"}]
        )
        store.conversations.set_summary(conversation.id, "Résumé", 1)
        action = store.actions.add(
            conversation_id=conversation.id,
            user_id="u1",
            organization_id="o1",
            tool="create_track",
            arguments={"name": "Python — débutant"},
            preview="Create track",
            idempotency_key="persist-1",
            risk="write",
            expires_at=at + timedelta(minutes=30),
        )
        store.actions.transition(action.id, "pending", "approved", decided_by="u1", decided_at=at)
        store.audit.add("approved", action_id=action.id, details={"by": "u1"}, at=at)
        store.usage.add(provider="anthropic", model="claude-sonnet-5-5", cost_usd=Decimal("0.0123"), at=at)
        store.feedback.add(conversation.id, 1, "u1", 1, "👍", at=at)

    with Store(database_url) as reopened:
        restored = reopened.conversations.get(conversation.id)
        assert restored is not None and restored.title == "Persisted ✓" and restored.summary == "Résumé"
        (message,) = reopened.conversations.list_messages(conversation.id)
        assert message.content == [{"type": "text", "text": "Créer une piste"}]
        approved = reopened.actions.require(action.id)
        assert (approved.status, approved.decided_at, approved.arguments) == (
            "approved",
            at,
            {"name": "Python — débutant"},
        )
        assert [e.details for e in reopened.audit.list(action_id=action.id)] == [{"by": "u1"}]
        assert reopened.usage.list()[0].cost_usd == Decimal("0.0123")
        assert reopened.feedback.list()[0].comment == "👍"
        assert reopened.conversations.append_message(conversation.id, "assistant", []).seq == 2


def test_stores_opening_at_once_migrate_once(database_url: str) -> None:
    """Several processes starting together (here threads) must not both create the schema."""
    stores = race(4, lambda i: Store(database_url))
    try:
        assert sum(1 for s in stores if s.migration.created) == 1
        assert all(s.schema_version() == LATEST_VERSION for s in stores)
    finally:
        for opened in stores:
            opened.close()
    assert [v for v, _ in version_rows(database_url)] == list(range(1, LATEST_VERSION + 1))
