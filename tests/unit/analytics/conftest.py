"""The reports run on both backends: every `store` test runs on SQLite and PostgreSQL."""

from tests.support.fixtures import (
    backend,
    database_url,
    postgres_admin_url,
    postgres_database,
    postgres_url,
    sqlite_url,
    store,
)
