"""What the model reads as the result of a proposing tool call, for every state of its action."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.conversation import deferred
from app.store.records import MessageData, PendingActionData

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
KEYS = ["action_id", "decision", "preview", "message", "result", "reason", "arguments", "retryable"]

ACTION = PendingActionData(
    id="a1", conversation_id="c", user_id="u", organization_id="o", tool="create_track",
    arguments={"project_id": "p", "name": "Python"}, preview="Create track 'Python'", digest="d1",
    idempotency_key="k", risk="write", confirm_name=None, status="pending",
    expires_at=NOW + timedelta(minutes=30), created_at=NOW, decided_at=None, decided_by=None,
    reason=None, result=None, error=None, attempts=0,
)  # fmt: skip


def payload(**changes: Any) -> dict[str, Any]:
    return deferred.payload(replace(ACTION, **changes), "d1", NOW)


def test_the_shape_is_fixed_and_the_text_is_the_same_every_time() -> None:
    text = deferred.content(ACTION, "d1", NOW)
    assert list(json.loads(text)) == KEYS
    assert text == deferred.content(ACTION, "d1", NOW)


def test_pending_says_nothing_happened_yet() -> None:
    out = payload()
    assert out["decision"] == "pending" and "NOT been carried out" in out["message"]
    assert out["result"] is None and out["arguments"] is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"status": "succeeded", "result": {"data": {"id": "t1"}, "message": "Created track 'Python'"}},
            {"decision": "executed", "result": {"id": "t1"}, "message": "Created track 'Python'"},
        ),
        (
            {"status": "failed", "error": "Platform down", "result": {"retryable": True}},
            {"decision": "failed", "reason": "Platform down", "retryable": True},
        ),
        (
            {"status": "failed", "error": "Refused", "result": {"retryable": False}},
            {"decision": "failed", "reason": "Refused", "retryable": False},
        ),
        (
            {"status": "rejected", "reason": "wrong project"},
            {"decision": "rejected", "reason": "wrong project"},
        ),
        ({"status": "expired"}, {"decision": "expired"}),
        ({"expires_at": NOW - timedelta(seconds=1)}, {"decision": "expired"}),  # before housekeeping
        ({"status": "executing"}, {"decision": "pending"}),
    ],
)
def test_each_decision(changes: dict[str, Any], expected: dict[str, Any]) -> None:
    out = payload(**changes)
    assert {k: out[k] for k in expected} == expected
    assert out["action_id"] == "a1" and out["preview"] == ACTION.preview


def test_an_edit_brings_the_new_arguments_and_keeps_them_once_decided() -> None:
    edited = {"digest": "d2", "arguments": {"project_id": "p", "name": "Py"}, "preview": "Create 'Py'"}
    waiting = payload(**edited)
    assert waiting["decision"] == "edited" and waiting["arguments"] == edited["arguments"]
    assert waiting["preview"] == "Create 'Py'"
    done = payload(**edited, status="succeeded", result={"data": {}, "message": "ok"})
    assert done["decision"] == "executed" and done["arguments"] == edited["arguments"]


def test_results_and_holder_follow_the_stored_references() -> None:
    record = MessageData(
        "m", "c", 3, "user", [{"type": "tool_result", "tool_use_id": "call", "content": "x"}], NOW,
        {deferred.DEFERRED_KEY: {"call": {"action_id": "a1", "digest": "d1"}}},
    )  # fmt: skip
    found = deferred.results([record], {"a1": ACTION}, NOW)
    assert json.loads(found["call"])["decision"] == "pending"
    assert json.loads(deferred.results([record], {}, NOW)["call"])["decision"] == "expired"  # deleted
    assert deferred.holder([record], "a1") == (record, "call")
    assert deferred.holder([record], "other") is None


def test_a_replaced_proposal_says_it_was_replaced_not_that_nobody_approved_it() -> None:
    out = payload(status="expired", reason="superseded by action a2: Create track 'Python' (advanced)")
    assert out["decision"] == "expired" and out["reason"].startswith("superseded by action a2")
    assert "replaced by a newer proposal" in out["message"] and "Nobody approved" not in out["message"]
