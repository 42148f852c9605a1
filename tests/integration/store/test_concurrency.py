"""Real concurrency against the real databases: threads racing on one Store.

Each race starts its threads on a barrier so they hit the database together, and is repeated, so
a store that decided in Python (read, check, write) would lose these races and fail the test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.store import Store
from tests.support.concurrency import race

ROUNDS = 15


def new_action(store: Store, conversation_id: str, key: str, expires_at: datetime | None = None) -> str:
    return store.actions.add(
        conversation_id=conversation_id,
        user_id="admin",
        organization_id="org",
        tool="create_track",
        arguments={"name": key},
        preview=f"Create {key}",
        idempotency_key=key,
        risk="write",
        expires_at=expires_at or datetime.now(UTC) + timedelta(minutes=30),
    ).id


def test_two_concurrent_approvals_exactly_one_wins(store: Store) -> None:
    conversation = store.conversations.create("admin", "org")
    for round_ in range(ROUNDS):
        action_id = new_action(store, conversation.id, f"approve-{round_}")
        outcomes = race(
            2,
            lambda i, action_id=action_id: store.actions.transition(  # type: ignore[misc]
                action_id, "pending", "approved", decided_by=f"clicker-{i}"
            ),
        )
        assert sorted(outcomes) == [False, True], f"round {round_}: {outcomes}"
        winner = outcomes.index(True)
        assert store.actions.require(action_id).decided_by == f"clicker-{winner}"


def test_many_concurrent_executors_exactly_one_starts(store: Store) -> None:
    conversation = store.conversations.create("admin", "org")
    action_id = new_action(store, conversation.id, "execute-once")
    assert store.actions.transition(action_id, "pending", "approved")
    outcomes = race(
        8, lambda i: store.actions.transition(action_id, "approved", "executing", bump_attempts=True)
    )
    assert outcomes.count(True) == 1
    assert store.actions.require(action_id).attempts == 1


def test_approval_racing_expiry_is_one_or_the_other(store: Store) -> None:
    conversation = store.conversations.create("admin", "org")
    for round_ in range(ROUNDS):
        expires = datetime.now(UTC) + timedelta(minutes=5)
        action_id = new_action(store, conversation.id, f"expiry-{round_}", expires_at=expires)
        after_expiry = expires + timedelta(seconds=1)

        def work(i: int, action_id: str = action_id, after_expiry: datetime = after_expiry) -> bool:
            if i == 0:
                return action_id in store.actions.expire_due(after_expiry)
            return store.actions.transition(action_id, "pending", "approved")

        expired, approved = race(2, work)
        assert expired != approved, f"round {round_}: expired={expired} approved={approved}"
        assert store.actions.require(action_id).status == ("expired" if expired else "approved")


def test_concurrent_appends_get_distinct_consecutive_seqs(store: Store) -> None:
    conversation = store.conversations.create("u1")
    writers = 8
    per_writer = 5

    def work(i: int) -> list[int]:
        return [
            store.conversations.append_message(
                conversation.id, "user", [{"type": "text", "text": f"w{i}-{n}"}]
            ).seq
            for n in range(per_writer)
        ]

    seqs = [seq for batch in race(writers, work) for seq in batch]
    assert sorted(seqs) == list(range(1, writers * per_writer + 1))
    stored = store.conversations.list_messages(conversation.id)
    assert [m.seq for m in stored] == list(range(1, writers * per_writer + 1))
    for batch_start in range(writers):  # each writer's own messages stay in its order
        mine = [m for m in stored if m.content[0]["text"].startswith(f"w{batch_start}-")]
        assert [m.content[0]["text"] for m in mine] == [f"w{batch_start}-{n}" for n in range(per_writer)]


def test_concurrent_usage_writes_and_reads_all_land(store: Store) -> None:
    def work(i: int) -> int:
        for _ in range(10):
            store.usage.add(provider="p", model="m", user_id=f"u{i % 2}", input_tokens=1)
            store.usage.totals("user")
        return i

    race(6, work)
    (overall,) = store.usage.totals()
    assert overall.calls == 60 and overall.input_tokens == 60
