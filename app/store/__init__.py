"""The assistant's persistence: SQLAlchemy models, migrations and repositories.

Use `Store(url)` (or `Store.from_settings(settings)`) and its repositories; they return frozen
dataclasses from `app.store.records`.
"""

from app.store.db import Store, normalize_url
from app.store.errors import DuplicateIdempotencyKeyError, NotFoundError, StoreError, TurnBusyError
from app.store.migrations import LATEST_VERSION, SchemaError
from app.store.repositories import arguments_digest

__all__ = [
    "LATEST_VERSION",
    "DuplicateIdempotencyKeyError",
    "NotFoundError",
    "SchemaError",
    "Store",
    "StoreError",
    "TurnBusyError",
    "arguments_digest",
    "normalize_url",
]
