"""Every stamped event of every turn, delivered to whoever follows its conversation.

The runner publishes each event as its turn emits it. Subscribers (a WebSocket session, the
metrics) get them in order, in this process at once; with REDIS_URL set, events published in any
other process (another API worker, the dashboard) arrive too, through one Redis pub/sub channel.
Without Redis, a follower that must see turns run elsewhere reads them from the store (events are
stored there by the journal, numbered, so nothing is missed or shown twice: see `Follower`).

Subscribers are plain callables and must return at once (they hand the event to their own queue);
a subscriber that raises is logged and dropped from nothing else's delivery.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Subscriber = Callable[[dict[str, Any]], None]
ALL = "*"  # subscribe to every conversation (the metrics do)


class EventBus:
    """In-process fan-out of wire events by conversation id."""

    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = {}
        self._local: list[Subscriber] = []  # see only this process's own events (the metrics)
        self._lock = threading.Lock()
        self.origin = uuid.uuid4().hex  # this process, so a Redis echo of our own events is skipped

    def subscribe(self, conversation_id: str, subscriber: Subscriber) -> Callable[[], None]:
        """Deliver the conversation's events (or every event, with ALL); returns the unsubscribe."""
        with self._lock:
            self._subscribers.setdefault(conversation_id, []).append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                found = self._subscribers.get(conversation_id, [])
                if subscriber in found:
                    found.remove(subscriber)
                if not found:
                    self._subscribers.pop(conversation_id, None)

        return unsubscribe

    def subscribe_local(self, subscriber: Subscriber) -> None:
        """Every event this process publishes (not those bridged in from others): counted once, here."""
        with self._lock:
            self._local.append(subscriber)

    def publish(self, event: dict[str, Any]) -> None:
        """An event of this process: delivered here, and to other processes when bridged."""
        self._publish_local(event)
        self.deliver(event)

    def _publish_local(self, event: dict[str, Any]) -> None:
        with self._lock:
            local = list(self._local)
        for subscriber in local:
            try:
                subscriber(event)
            except Exception:
                log.exception("a local event subscriber failed")

    def deliver(self, event: dict[str, Any]) -> None:
        with self._lock:
            targets = [
                *self._subscribers.get(str(event.get("conversation_id")), ()),
                *self._subscribers.get(ALL, ()),
            ]
        for subscriber in targets:
            try:
                subscriber(event)
            except Exception:
                log.exception("an event subscriber failed")

    @property
    def bridged(self) -> bool:
        """True when events of other processes arrive here too."""
        return False

    def close(self) -> None:
        """Nothing to release in-process."""


class RedisEventBus(EventBus):
    """The in-process bus plus one Redis channel shared by every process of the assistant."""

    def __init__(self, url: str, prefix: str = "cca:") -> None:
        super().__init__()
        import redis

        self.channel = f"{prefix}events"
        self._client = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=5.0)
        self._client.ping()  # fail at start, with a clear error, rather than silently at the first turn
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        self._pubsub.subscribe(self.channel)
        self._stopping = threading.Event()
        self._listener = threading.Thread(target=self._listen, name="event-bus-redis", daemon=True)
        self._listener.start()
        self._outbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self._publisher = threading.Thread(target=self._publish, name="event-bus-redis-out", daemon=True)
        self._publisher.start()

    @property
    def bridged(self) -> bool:
        return True

    def publish(self, event: dict[str, Any]) -> None:
        self._publish_local(event)
        self.deliver(event)
        self._outbox.put(event)  # sent by the publisher thread: a turn never waits on Redis

    def _publish(self) -> None:
        """Send queued events in batches (one pipeline round trip for whatever has piled up)."""
        while not self._stopping.is_set():
            try:
                batch = [self._outbox.get(timeout=0.5)]
            except queue.Empty:
                continue
            while len(batch) < 500:
                try:
                    batch.append(self._outbox.get_nowait())
                except queue.Empty:
                    break
            try:
                pipe = self._client.pipeline(transaction=False)
                for event in batch:
                    pipe.publish(self.channel, _envelope(self.origin, event))
                pipe.execute()
            except (
                Exception
            ):  # other processes miss these live events; their followers read them from the store
                log.warning("could not publish %d events to Redis", len(batch), exc_info=True)

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                message = self._pubsub.get_message(timeout=1.0)
            except Exception:
                if self._stopping.is_set():
                    return
                log.warning("Redis event channel failed; retrying", exc_info=True)
                self._stopping.wait(1.0)
                continue
            if not message or message.get("type") != "message":
                continue
            event = self._wanted(message["data"])
            if event is not None:
                self.deliver(event)

    def _wanted(self, data: bytes) -> dict[str, Any] | None:
        """The event in a message, if another process sent it and someone here follows its
        conversation. Every worker hears every event on the one channel; the envelope names the
        conversation before the JSON, so the events of conversations nobody here follows (with
        two workers, about half of them) are dropped without being parsed."""
        try:
            origin, conversation_id, body = data.split(b" ", 2)
        except ValueError:
            return None
        if origin.decode() == self.origin:
            return None
        with self._lock:
            followed = conversation_id.decode() in self._subscribers or ALL in self._subscribers
        if not followed:
            return None
        try:
            event = json.loads(body)
        except ValueError:
            return None
        return event if isinstance(event, dict) else None

    def close(self) -> None:
        self._stopping.set()
        try:
            self._pubsub.close()
            self._client.close()
        except Exception:
            pass


def _envelope(origin: str, event: dict[str, Any]) -> str:
    """`<origin> <conversation id> <event JSON>`: see `RedisEventBus._wanted`."""
    return f"{origin} {event.get('conversation_id')} {json.dumps(event, default=str)}"


def build_bus(redis_url: str | None, prefix: str) -> EventBus:
    return RedisEventBus(redis_url, prefix) if redis_url else EventBus()
