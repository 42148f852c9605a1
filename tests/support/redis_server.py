"""The local Redis server, for tests: availability check, per-run key prefixes, a dead address.

Tests share the one Redis on 127.0.0.1:6379, so each test writes only under its own random prefix
(`cca_test_<hex>:`) and deletes those keys afterwards. CCA_TEST_REDIS_URL overrides the address.
"""

from __future__ import annotations

import os
import secrets
import socket

import redis

DEFAULT_URL = "redis://127.0.0.1:6379/0"
URL_ENV = "CCA_TEST_REDIS_URL"


def redis_url() -> str:
    return os.environ.get(URL_ENV, DEFAULT_URL)


def check_redis(url: str) -> str | None:
    """None if Redis answers PING at `url`, else the reason it does not."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
        return None
    except redis.RedisError as exc:
        return f"Redis does not answer at {url}: {exc}"
    finally:
        client.close()


def unique_prefix() -> str:
    return f"cca_test_{secrets.token_hex(6)}:"


def delete_prefix(url: str, prefix: str) -> int:
    """Delete every key under `prefix`; returns how many there were."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=500))
        return int(client.delete(*keys)) if keys else 0
    finally:
        client.close()


def closed_loopback_port() -> int:
    """A loopback port nothing listens on (bound then released), for "server is down" tests."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
