"""Test-wide guards: no test may reach the network, and markers follow the folder a test lives in.

Loopback stays open because the real components the tests use live there: the sandbox platform
on a local port, the fake LLM servers, PostgreSQL and Redis on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

TESTS_DIR = Path(__file__).parent
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


class NetworkBlockedError(RuntimeError):
    """Raised when a test tries to open a connection that leaves this machine."""


def _is_local(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if not _is_local(address):
        raise NetworkBlockedError(f"test tried to reach {address!r}: the network is blocked in tests")
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if not _is_local(address):
        raise NetworkBlockedError(f"test tried to reach {address!r}: the network is blocked in tests")
    return _real_connect_ex(self, address)


def pytest_configure(config: pytest.Config) -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        rel = Path(str(item.fspath)).resolve().relative_to(TESTS_DIR.resolve())
        tier = rel.parts[0] if len(rel.parts) > 1 else None
        if tier in ("unit", "integration", "sandbox", "ui", "e2e"):
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Clear provider keys so a developer's own environment cannot change a test's mode."""
    for name in (
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "LOCAL_MODEL_PATH",
        "LLM_PROVIDER",
    ):
        monkeypatch.delenv(name, raising=False)
    yield
