"""The terminal chat runs in a subprocess against the fake Anthropic server and its bundled sandbox."""

from __future__ import annotations

from tests.fakes.fixtures import anthropic_server
