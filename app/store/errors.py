"""Errors the store raises for conditions a caller can act on (the rest are bugs and propagate)."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of the store's own errors."""


class NotFoundError(StoreError, LookupError):
    """The row an operation needs (a conversation, an action) does not exist."""


class DuplicateIdempotencyKeyError(StoreError):
    """A pending action with this idempotency key already exists: the proposal was made before."""

    def __init__(self, key: str) -> None:
        super().__init__(f"a pending action with idempotency key {key!r} already exists")
        self.key = key


class TurnBusyError(StoreError):
    """Another turn of the conversation is still running; one runs at a time."""

    def __init__(self, turn_id: str, label: str = "") -> None:
        super().__init__("the assistant is still working on the previous message in this conversation")
        self.turn_id = turn_id
        self.label = label
