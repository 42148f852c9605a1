"""The platform fails while an approved action executes: a clear error, the action marked failed
and retryable, and a retry with the SAME idempotency key that creates exactly one track, also
when the first request did reach the platform and only its answer was lost.

The assistant talks to the sandbox through a fault-injecting proxy (fault_proxy.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.conversation import decisions
from app.conversation import events as ev
from app.conversation.turn import run_turn
from app.providers.scripted import ScriptedProvider, tool_reply
from sandbox.server import RunningSandbox
from tests.integration.conversation.conftest import ADMIN_A
from tests.integration.conversation.fault_proxy import FaultProxy
from tests.integration.conversation.helpers import (
    collect,
    new_conversation,
    of,
    one,
    project_id,
    tracks_named,
)

TIMEOUT_S = 0.6


@pytest.fixture
def proxy(sandbox: RunningSandbox) -> Iterator[FaultProxy]:
    with FaultProxy(sandbox.base_url, hold_s=TIMEOUT_S * 3, path_prefix="/tracks") as running:
        yield running


EXPECTED_MESSAGE = {
    "500": "The platform did not complete the request (injected failure). It can be retried safely.",
    "timeout": f"The platform did not complete the request (no answer within {TIMEOUT_S:g} s (ReadTimeout)).",
    "lost": "The platform did not complete the request (injected failure after the platform answered).",
    "late": f"The platform did not complete the request (no answer within {TIMEOUT_S:g} s (ReadTimeout)).",
}


@pytest.mark.parametrize("fault", list(EXPECTED_MESSAGE))
def test_a_failed_execution_is_retried_with_the_same_key_and_creates_one_track(
    fault: str, proxy: FaultProxy, make_services: Callable[..., Any], sign_in: Any, platform: Any
) -> None:
    admin = sign_in(ADMIN_A)
    client = platform(admin)
    dsf = project_id(client, admin, "Data Science Foundations")
    name = f"Resilient Track {fault}"
    provider = ScriptedProvider().enqueue(
        tool_reply("create_track", {"project_id": dsf, "name": name}),
        "It failed; the platform did not answer. You can retry it.",
        "It is created now. Add courses next?",
    )
    services = make_services(provider, base_url=proxy.base_url, platform_timeout_s=TIMEOUT_S)
    deps = services.turn_deps()
    cid = new_conversation(services, admin)
    proposed = one(
        collect(run_turn(deps, cid, admin, f"Create {name} in Data Science Foundations")), ev.ActionProposed
    )

    proxy.fail(fault)
    first = collect(decisions.approve(deps, admin, proposed.action_id, expected_digest=proposed.digest))
    failed = one(first, ev.ActionExecuted)
    assert not failed.ok and failed.status == "failed" and failed.retryable
    assert failed.message.startswith(EXPECTED_MESSAGE[fault])
    assert failed.message.endswith("You can retry it safely: it will not be applied twice.")
    assert "did not answer" in "".join(e.text for e in of(first, ev.TextDelta))  # the model explains
    action = services.store.actions.require(proposed.action_id)
    assert action.status == "failed" and action.result["retryable"] is True and action.attempts == 1
    assert action.error is not None and action.error.startswith("The platform did not complete the request")
    reached = fault in ("lost", "late")
    assert len(tracks_named(client, name, dsf)) == (1 if reached else 0)

    proxy.off()
    second = collect(decisions.approve(deps, admin, proposed.action_id, expected_digest=proposed.digest))
    done = one(second, ev.ActionExecuted)
    assert done.ok and done.status == "succeeded", done.message
    assert services.store.actions.require(proposed.action_id).attempts == 2

    (track,) = tracks_named(client, name, dsf)
    assert done.result["id"] == track["id"]
    posts = proxy.posts("/tracks/")
    assert [p.fault for p in posts] == [fault, None]
    assert {p.idempotency_key for p in posts} == {action.idempotency_key}
    events = [e.event for e in services.store.audit.list(action_id=action.id, newest_first=False)]
    assert events == ["proposed", "approved", "failed", "approved", "executed"]
    # a succeeded action cannot be approved a third time
    third = collect(decisions.approve(deps, admin, proposed.action_id, expected_digest=proposed.digest))
    assert one(third, ev.ErrorEvent).code == "action_refused"
    assert len(proxy.posts("/tracks/")) == 2


def test_a_key_still_in_progress_on_the_platform_stays_retryable(
    proxy: FaultProxy, make_services: Callable[..., Any], sign_in: Any, platform: Any
) -> None:
    """The platform answers 409 idempotency_key_in_progress while the first request with the key
    still runs: the action may still complete, so it must stay retryable, not fail for good."""
    admin = sign_in(ADMIN_A)
    client = platform(admin)
    dsf = project_id(client, admin, "Data Science Foundations")
    provider = ScriptedProvider().enqueue(
        tool_reply("create_track", {"project_id": dsf, "name": "Busy Track"}), "Still running.", "Done now."
    )
    services = make_services(provider, base_url=proxy.base_url, platform_timeout_s=TIMEOUT_S)
    deps = services.turn_deps()
    cid = new_conversation(services, admin)
    proposed = one(collect(run_turn(deps, cid, admin, "Create Busy Track")), ev.ActionProposed)

    proxy.fail("409")
    failed = one(
        collect(decisions.approve(deps, admin, proposed.action_id, expected_digest=proposed.digest)),
        ev.ActionExecuted,
    )
    assert not failed.ok and failed.status == "failed"
    assert failed.retryable, failed.message

    proxy.off()
    assert one(
        collect(decisions.approve(deps, admin, proposed.action_id, expected_digest=proposed.digest)),
        ev.ActionExecuted,
    ).ok
    assert len(tracks_named(client, "Busy Track", dsf)) == 1


@pytest.mark.parametrize(("fault", "created_by_first"), [("lost", True), ("500", False)])
def test_a_retry_later_than_the_platforms_key_window_looks_before_it_creates(
    fault: str,
    created_by_first: bool,
    proxy: FaultProxy,
    make_services: Callable[..., Any],
    sign_in: Any,
    platform: Any,
) -> None:
    """The platform forgot the key (24 h): the retry must look for the first attempt's track."""
    admin = sign_in(ADMIN_A)
    client = platform(admin)
    dsf = project_id(client, admin, "Data Science Foundations")
    name = f"Late Retry Track {fault}"
    provider = ScriptedProvider().enqueue(
        tool_reply("create_track", {"project_id": dsf, "name": name}), "It failed.", "Noted."
    )
    services = make_services(provider, base_url=proxy.base_url, platform_timeout_s=TIMEOUT_S)
    deps = services.turn_deps()
    cid = new_conversation(services, admin)
    proposed = one(collect(run_turn(deps, cid, admin, f"Create {name}")), ev.ActionProposed)
    proxy.fail(fault)
    failed = one(
        collect(decisions.approve(deps, admin, proposed.action_id, expected_digest=proposed.digest)),
        ev.ActionExecuted,
    )
    assert failed.retryable
    proxy.off()
    services.actions.clock = lambda: datetime.now(UTC) + timedelta(hours=25)
    late = collect(decisions.approve(deps, admin, proposed.action_id, expected_digest=proposed.digest))
    action = services.store.actions.require(proposed.action_id)
    (track,) = tracks_named(client, name, dsf)  # exactly one, either way
    if created_by_first:
        message = one(late, ev.ErrorEvent).message
        assert "first attempt appears to have gone through" in message and track["id"] in message
        assert action.status == "failed" and action.result["retryable"] is False
        assert len(proxy.posts("/tracks/")) == 1  # nothing sent again
    else:
        assert one(late, ev.ActionExecuted).ok and action.status == "succeeded"
    events = [e.event for e in services.store.audit.list(action_id=action.id, newest_first=False)]
    assert events[-1] == ("refused" if created_by_first else "executed")


def test_a_late_retry_of_a_tool_that_cannot_look_is_refused(
    proxy: FaultProxy, make_services: Callable[..., Any], sign_in: Any, platform: Any
) -> None:
    admin = sign_in(ADMIN_A)
    client = platform(admin)
    dsf = project_id(client, admin, "Data Science Foundations")
    provider = ScriptedProvider().enqueue(
        tool_reply("create_track", {"project_id": dsf, "name": "Blind Track"}), "It failed.", "Noted."
    )
    services = make_services(provider, base_url=proxy.base_url, platform_timeout_s=TIMEOUT_S)
    blind = replace(services.registry.get("create_track"), find_existing=None)
    services.registry._tools["create_track"] = blind  # a create with no way to look
    deps = services.turn_deps()
    cid = new_conversation(services, admin)
    proposed = one(collect(run_turn(deps, cid, admin, "Create Blind Track")), ev.ActionProposed)
    proxy.fail("lost")
    collect(decisions.approve(deps, admin, proposed.action_id, expected_digest=proposed.digest))
    proxy.off()
    services.actions.clock = lambda: datetime.now(UTC) + timedelta(hours=30)
    late = collect(decisions.approve(deps, admin, proposed.action_id, expected_digest=proposed.digest))
    message = one(late, ev.ErrorEvent).message
    assert "keeps retries safe for 24 h only" in message and "nothing was done" in message
    assert len(tracks_named(client, "Blind Track", dsf)) == 1 and len(proxy.posts("/tracks/")) == 1
    action = services.store.actions.require(proposed.action_id)
    assert action.status == "failed" and action.result["retryable"] is False
