"""Helpers and fixtures shared by test folders: throwaway PostgreSQL databases, Redis prefixes.

See `tests/support/fixtures.py` for how to use the fixtures from another folder's conftest.py.
"""
