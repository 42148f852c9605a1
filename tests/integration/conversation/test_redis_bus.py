"""The Redis bridge of the event bus against the local Redis: what one process publishes reaches
another's followers of that conversation, once; events of conversations nobody follows there, a
process's own echo and malformed messages are dropped."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from app.conversation.bus import RedisEventBus
from tests.support.fixtures import redis_key_prefix, redis_url

__all__ = ["redis_key_prefix", "redis_url"]  # fixtures

pytestmark = pytest.mark.redis


def _event(conversation_id: str, seq: int) -> dict[str, Any]:
    return {
        "type": "text_delta",
        "conversation_id": conversation_id,
        "turn_id": "t1",
        "seq": seq,
        "text": "hi",
    }


def test_an_event_reaches_the_other_process_follower_once(redis_url: str, redis_key_prefix: str) -> None:
    one, two = RedisEventBus(redis_url, redis_key_prefix), RedisEventBus(redis_url, redis_key_prefix)
    try:
        got_two: list[dict[str, Any]] = []
        got_one: list[dict[str, Any]] = []
        arrived = threading.Event()

        def on_two(event: dict[str, Any]) -> None:
            got_two.append(event)
            if event["seq"] == 2:
                arrived.set()

        two.subscribe("conv-a", on_two)
        one.subscribe("conv-a", got_one.append)
        one.publish(_event("conv-a", 1))
        one.publish(_event("conv-b", 1))  # nobody follows conv-b in `two`
        one.publish(_event("conv-a", 2))
        assert arrived.wait(5), "the event published by one process never reached the other"
        assert [e["seq"] for e in got_two] == [1, 2]
        assert got_two[0] == _event("conv-a", 1)
        assert [e["seq"] for e in got_one] == [1, 2]  # delivered locally once; its Redis echo skipped
    finally:
        one.close()
        two.close()


def test_unfollowed_foreign_and_malformed_messages_are_dropped(redis_url: str, redis_key_prefix: str) -> None:
    bus = RedisEventBus(redis_url, redis_key_prefix)
    try:
        bus.subscribe("conv-a", lambda event: None)
        body = json.dumps(_event("conv-a", 1)).encode()
        assert bus._wanted(b"other-process conv-a " + body) == _event("conv-a", 1)
        assert bus._wanted(b"other-process conv-b " + body) is None  # not followed here
        assert bus._wanted(bus.origin.encode() + b" conv-a " + body) is None  # our own echo
        assert bus._wanted(b"other-process conv-a {not json") is None
        assert bus._wanted(b"no-spaces") is None
        assert bus._wanted(b'other-process conv-a ["a list"]') is None
    finally:
        bus.close()
