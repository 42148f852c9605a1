"""A sandbox killed with SIGKILL while keyed creates run: after a restart, retries with the same
keys create each project exactly once and every key ends with its answer (a real subprocess)."""

from __future__ import annotations

from bench.campaign import kill_campaign


def test_keyed_creates_survive_a_kill_minus_nine_without_duplicates() -> None:
    figures = kill_campaign(rounds=1, writers=8)
    assert figures.counts == {"duplicates": 0, "missing after retry": 0, "keys without answer": 0}
    assert figures.calls == 16
