"""Pending actions: add, lookups, the conditional transition, edits and expiry, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.store import DuplicateIdempotencyKeyError, NotFoundError, Store, arguments_digest
from app.store.records import PendingActionData

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def propose(store: Store, conversation_id: str, **overrides: Any) -> PendingActionData:
    values: dict[str, Any] = {
        "conversation_id": conversation_id,
        "user_id": "admin-1",
        "organization_id": "org-1",
        "tool": "create_track",
        "arguments": {"project_id": "p-1", "name": "Python Fundamentals", "level": "beginner"},
        "preview": "Create track 'Python Fundamentals' (beginner) in project Data Science Foundations",
        "idempotency_key": f"key-{overrides.get('tool', 'create_track')}-{len(store.actions.list())}",
        "risk": "write",
        "expires_at": NOW + timedelta(minutes=30),
    }
    values.update(overrides)
    return store.actions.add(**values)


@pytest.fixture
def conversation_id(store: Store) -> str:
    return store.conversations.create("admin-1", "org-1").id


def test_add_then_get_round_trips_every_field(store: Store, conversation_id: str) -> None:
    action = propose(store, conversation_id, risk="destructive", confirm_name="Data Science Foundations")
    assert action.status == "pending" and action.attempts == 0
    assert action.digest == arguments_digest(action.arguments)
    assert action.confirm_name == "Data Science Foundations"
    assert action.expires_at == NOW + timedelta(minutes=30)
    assert (action.decided_at, action.decided_by, action.reason, action.result, action.error) == (None,) * 5
    assert store.actions.get(action.id) == action
    assert store.actions.get_by_idempotency_key(action.idempotency_key) == action
    assert store.actions.get("missing") is None
    with pytest.raises(NotFoundError):
        store.actions.require("missing")


def test_digest_ignores_key_order_and_sees_value_changes() -> None:
    assert arguments_digest({"a": 1, "b": "é"}) == arguments_digest({"b": "é", "a": 1})
    assert arguments_digest({"a": 1}) != arguments_digest({"a": 2})
    assert len(arguments_digest({})) == 64


def test_idempotency_key_is_unique(store: Store, conversation_id: str) -> None:
    propose(store, conversation_id, idempotency_key="same")
    with pytest.raises(DuplicateIdempotencyKeyError) as raised:
        propose(store, conversation_id, idempotency_key="same")
    assert raised.value.key == "same"
    assert len(store.actions.list()) == 1


def test_add_checks_conversation_and_risk(store: Store, conversation_id: str) -> None:
    with pytest.raises(NotFoundError):
        propose(store, "no-such-conversation")
    with pytest.raises(ValueError, match="risk"):
        propose(store, conversation_id, risk="read")


def test_list_filters_and_orders_newest_first(store: Store, conversation_id: str) -> None:
    other_conversation = store.conversations.create("admin-2", "org-2").id
    first = propose(store, conversation_id, idempotency_key="k1")
    second = propose(store, conversation_id, idempotency_key="k2")
    third = propose(
        store, other_conversation, idempotency_key="k3", user_id="admin-2", organization_id="org-2"
    )
    store.actions.transition(second.id, "pending", "rejected", reason="no")

    assert [a.id for a in store.actions.list()] == [third.id, second.id, first.id]
    assert {a.id for a in store.actions.list(conversation_id=conversation_id)} == {first.id, second.id}
    assert [a.id for a in store.actions.list(user_id="admin-2")] == [third.id]
    assert [a.id for a in store.actions.list(organization_id="org-1", status="pending")] == [first.id]
    assert {a.id for a in store.actions.list(status=["pending", "rejected"])} == {
        first.id,
        second.id,
        third.id,
    }
    assert len(store.actions.list(limit=2)) == 2
    with pytest.raises(ValueError, match="status"):
        store.actions.list(status="waiting")


def test_transition_happens_once(store: Store, conversation_id: str) -> None:
    action = propose(store, conversation_id)
    assert store.actions.transition(action.id, "pending", "approved", decided_by="admin-1", decided_at=NOW)
    assert not store.actions.transition(action.id, "pending", "approved", decided_by="someone-else")
    approved = store.actions.require(action.id)
    assert (approved.status, approved.decided_by, approved.decided_at) == ("approved", "admin-1", NOW)


def test_transition_sets_result_error_and_counts_attempts(store: Store, conversation_id: str) -> None:
    action = propose(store, conversation_id)
    assert store.actions.transition(action.id, "pending", "approved")
    assert store.actions.transition(action.id, "approved", "executing", bump_attempts=True)
    assert store.actions.transition(action.id, "executing", "failed", error="platform 500")
    # A retry is allowed from failed (same idempotency key) and counts a second attempt.
    assert store.actions.transition(action.id, ["approved", "failed"], "executing", bump_attempts=True)
    result = {"track": {"id": "t-9", "name": "Python Fundamentals ✓"}}
    assert store.actions.transition(action.id, "executing", "succeeded", result=result, error=None)
    done = store.actions.require(action.id)
    assert (done.status, done.attempts, done.result, done.error) == ("succeeded", 2, result, None)


def test_transition_refuses_an_expired_action(store: Store, conversation_id: str) -> None:
    action = propose(store, conversation_id, expires_at=NOW)
    assert not store.actions.transition(action.id, "pending", "approved", now=NOW)  # expiry is exclusive
    assert store.actions.require(action.id).status == "pending"
    assert store.actions.transition(action.id, "pending", "approved", now=NOW - timedelta(seconds=1))


def test_transition_refuses_when_the_arguments_changed(store: Store, conversation_id: str) -> None:
    action = propose(store, conversation_id)
    seen_by_user = action.digest
    edited = {**action.arguments, "level": "advanced"}
    assert store.actions.update_arguments(action.id, edited, arguments_digest(edited), "Create … (advanced)")
    assert not store.actions.transition(action.id, "pending", "approved", expected_digest=seen_by_user)
    assert store.actions.transition(
        action.id, "pending", "approved", expected_digest=arguments_digest(edited)
    )


def test_transition_validates_its_inputs(store: Store, conversation_id: str) -> None:
    action = propose(store, conversation_id)
    with pytest.raises(ValueError, match="cannot set"):
        store.actions.transition(action.id, "pending", "approved", arguments={"x": 1})
    with pytest.raises(ValueError, match="status"):
        store.actions.transition(action.id, "pending", "done")
    with pytest.raises(ValueError, match="status"):
        store.actions.transition(action.id, [], "approved")
    assert not store.actions.transition("missing", "pending", "approved")


def test_update_arguments_only_while_pending(store: Store, conversation_id: str) -> None:
    action = propose(store, conversation_id, risk="destructive", confirm_name="Old name")
    new_args = {"project_id": "p-2", "name": "Renamed"}
    assert store.actions.update_arguments(
        action.id, new_args, arguments_digest(new_args), "Delete project Renamed", confirm_name="Renamed"
    )
    edited = store.actions.require(action.id)
    assert (edited.arguments, edited.digest, edited.preview, edited.confirm_name) == (
        new_args,
        arguments_digest(new_args),
        "Delete project Renamed",
        "Renamed",
    )
    store.actions.transition(action.id, "pending", "rejected", reason="changed my mind")
    assert not store.actions.update_arguments(action.id, {"x": 1}, arguments_digest({"x": 1}), "x")
    assert store.actions.require(action.id).arguments == new_args


def test_expire_due_marks_only_pending_actions_past_expiry(store: Store, conversation_id: str) -> None:
    due = propose(store, conversation_id, idempotency_key="due", expires_at=NOW - timedelta(minutes=1))
    at_the_edge = propose(store, conversation_id, idempotency_key="edge", expires_at=NOW)
    later = propose(store, conversation_id, idempotency_key="later", expires_at=NOW + timedelta(minutes=1))
    decided = propose(store, conversation_id, idempotency_key="decided", expires_at=NOW - timedelta(hours=1))
    store.actions.transition(decided.id, "pending", "approved")

    assert store.actions.expire_due(NOW) == sorted([due.id, at_the_edge.id])
    assert store.actions.expire_due(NOW) == []  # already expired: reported once
    assert store.actions.require(due.id).status == "expired"
    assert store.actions.require(due.id).decided_at == NOW
    assert store.actions.require(later.id).status == "pending"
    assert store.actions.require(decided.id).status == "approved"
    assert not store.actions.transition(due.id, "pending", "approved")


def test_is_expired_helper(store: Store, conversation_id: str) -> None:
    action = propose(store, conversation_id, expires_at=NOW)
    assert action.is_expired(NOW) and not action.is_expired(NOW - timedelta(seconds=1))
