"""Conversations and messages, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.providers.base import Message, TextBlock, ToolResultBlock, ToolUseBlock
from app.store import NotFoundError, Store


def text(value: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": value}]


def test_create_and_get(store: Store) -> None:
    created = store.conversations.create("u1", "org1", title="Tracks", provider="offline", model="planner")
    fetched = store.conversations.get(created.id)
    assert fetched == created
    assert (fetched.user_id, fetched.organization_id, fetched.title) == ("u1", "org1", "Tracks")
    assert (fetched.summary, fetched.summarized_upto_seq) == ("", 0)
    assert (fetched.provider, fetched.model) == ("offline", "planner")
    assert fetched.created_at.tzinfo == UTC
    assert store.conversations.get("no-such-id") is None


def test_create_with_a_given_id(store: Store) -> None:
    created = store.conversations.create("u1", conversation_id="fixed-id")
    assert created.id == "fixed-id" and store.conversations.get("fixed-id") is not None


def test_list_for_user_is_newest_activity_first_and_scoped(tmp_path: Any, database_url: str) -> None:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    clock = {"now": t0}
    with Store(database_url, clock=lambda: clock["now"]) as store:
        first = store.conversations.create("alice", "org1")
        clock["now"] = t0 + timedelta(minutes=1)
        second = store.conversations.create("alice", "org1")
        clock["now"] = t0 + timedelta(minutes=2)
        other_org = store.conversations.create("alice", "org2")
        store.conversations.create("bob", "org1")
        assert [c.id for c in store.conversations.list_for_user("alice")] == [
            other_org.id,
            second.id,
            first.id,
        ]

        clock["now"] = t0 + timedelta(minutes=3)
        store.conversations.append_message(first.id, "user", text("bump"))  # activity moves it up
        assert [c.id for c in store.conversations.list_for_user("alice", organization_id="org1")] == [
            first.id,
            second.id,
        ]
        assert len(store.conversations.list_for_user("alice", limit=1)) == 1
        assert [c.id for c in store.conversations.list_for_user("alice", limit=1, offset=1)] == [other_org.id]


def test_messages_get_consecutive_seqs_in_order(store: Store) -> None:
    conversation = store.conversations.create("u1")
    roles = ["user", "assistant", "user", "assistant", "user"]
    seqs = [
        store.conversations.append_message(conversation.id, r, text(f"m{i}")).seq for i, r in enumerate(roles)
    ]
    assert seqs == [1, 2, 3, 4, 5]
    messages = store.conversations.list_messages(conversation.id)
    assert [m.seq for m in messages] == [1, 2, 3, 4, 5]
    assert [m.role for m in messages] == roles
    assert [m.content[0]["text"] for m in messages] == ["m0", "m1", "m2", "m3", "m4"]
    assert [m.seq for m in store.conversations.list_messages(conversation.id, after_seq=3)] == [4, 5]
    assert [m.seq for m in store.conversations.list_messages(conversation.id, limit=2)] == [1, 2]
    assert [m.seq for m in store.conversations.list_messages(conversation.id, last=2)] == [4, 5]
    assert store.conversations.count_messages(conversation.id) == 5


def test_seqs_are_per_conversation(store: Store) -> None:
    a = store.conversations.create("u1")
    b = store.conversations.create("u1")
    store.conversations.append_message(a.id, "user", text("a1"))
    store.conversations.append_message(a.id, "assistant", text("a2"))
    assert store.conversations.append_message(b.id, "user", text("b1")).seq == 1


def test_append_touches_updated_at(store: Store) -> None:
    conversation = store.conversations.create("u1")
    message = store.conversations.append_message(conversation.id, "user", text("hi"))
    refreshed = store.conversations.get(conversation.id)
    assert refreshed is not None and refreshed.updated_at == message.created_at >= conversation.updated_at


def test_append_to_a_missing_conversation_raises(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.conversations.append_message("missing", "user", text("hi"))


def test_append_rejects_unknown_roles(store: Store) -> None:
    conversation = store.conversations.create("u1")
    with pytest.raises(ValueError, match="role"):
        store.conversations.append_message(conversation.id, "system", text("hi"))


def test_provider_message_json_round_trips_with_unicode(store: Store) -> None:
    conversation = store.conversations.create("u1", title="Données — 数据 — 🚀")
    message = Message(
        "assistant",
        (
            TextBlock("Créer la piste « Python Fundamentals » 🐍 — 数据科学基础"),
            ToolUseBlock("tu_1", "create_track", {"name": "Ünïcode ☃", "levels": [1, 2.5, None, True]}),
            ToolResultBlock("tu_1", '{"ok": true, "name": "Ünïcode ☃"}', is_error=False),
        ),
    )
    metadata = {"citations": [{"id": "c1", "path": "docs/guide – é.md", "score": 0.87}], "events": []}
    stored = store.conversations.append_message(
        conversation.id, message.role, message.to_dict()["content"], metadata
    )
    (loaded,) = store.conversations.list_messages(conversation.id)
    assert Message.from_dict(loaded.to_message_dict()) == message
    assert loaded.metadata == metadata == stored.metadata
    fetched = store.conversations.get(conversation.id)
    assert fetched is not None and fetched.title == "Données — 数据 — 🚀"


def test_set_title_summary_and_model(store: Store) -> None:
    conversation = store.conversations.create("u1")
    assert store.conversations.set_title(conversation.id, "Beginner Python track")
    assert store.conversations.set_summary(conversation.id, "Asked for a track; chose DSF.", 4)
    assert store.conversations.set_model(conversation.id, "anthropic", "claude-sonnet-5-5")
    updated = store.conversations.get(conversation.id)
    assert updated is not None
    assert updated.title == "Beginner Python track"
    assert (updated.summary, updated.summarized_upto_seq) == ("Asked for a track; chose DSF.", 4)
    assert (updated.provider, updated.model) == ("anthropic", "claude-sonnet-5-5")
    assert not store.conversations.set_title("missing", "x")


def test_delete_cascades_to_messages_actions_and_feedback_but_keeps_usage_and_audit(store: Store) -> None:
    conversation = store.conversations.create("u1")
    store.conversations.append_message(conversation.id, "user", text("hi"))
    action = store.actions.add(
        conversation_id=conversation.id,
        user_id="u1",
        organization_id=None,
        tool="delete_project",
        arguments={"project_id": "p1"},
        preview="Delete project",
        idempotency_key="k-delete",
        risk="destructive",
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    store.feedback.add(conversation.id, 1, "u1", 1)
    store.usage.add(provider="p", model="m", conversation_id=conversation.id)
    store.audit.add("proposed", conversation_id=conversation.id, action_id=action.id)

    assert store.conversations.delete(conversation.id)
    assert store.conversations.get(conversation.id) is None
    assert store.conversations.list_messages(conversation.id) == []
    assert store.actions.get(action.id) is None
    assert store.feedback.list(conversation_id=conversation.id) == []
    assert len(store.usage.list(conversation_id=conversation.id)) == 1
    assert len(store.audit.list(conversation_id=conversation.id)) == 1
    assert not store.conversations.delete(conversation.id)
