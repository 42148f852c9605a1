"""Fixtures for the usage tests: a store on both backends (ledger, budget) and the local Redis."""

from tests.support.fixtures import (
    backend,
    database_url,
    postgres_admin_url,
    postgres_database,
    postgres_url,
    redis_key_prefix,
    redis_url,
    sqlite_url,
    store,
)
