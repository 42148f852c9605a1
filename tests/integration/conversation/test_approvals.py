"""Decisions on pending actions: double approval, expiry, someone else's action, edits and
digests, typed-back names for deletions, and the audit trail of every step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from app.actions.service import ActionService
from app.conversation import decisions
from app.conversation import events as ev
from app.conversation.turn import run_turn
from app.platform.errors import PlatformError
from app.providers.scripted import ScriptedProvider, tool_reply
from app.services import Services
from app.store.models import PendingAction
from tests.integration.conversation.conftest import ADMIN_A, ADMIN_B, INSTRUCTOR_A
from tests.integration.conversation.helpers import (
    collect,
    new_conversation,
    of,
    one,
    project_id,
    tracks_named,
)
from tests.support.concurrency import race


class Setup:
    """A conversation of the admin with one proposed create_track."""

    def __init__(
        self, make_services: Callable[..., Services], sign_in: Any, platform: Any, name: str
    ) -> None:
        self.admin = sign_in(ADMIN_A)
        self.client = platform(self.admin)
        self.dsf = project_id(self.client, self.admin, "Data Science Foundations")
        self.name = name
        self.provider = ScriptedProvider()
        self.services = make_services(self.provider)
        self.deps = self.services.turn_deps()
        self.cid = new_conversation(self.services, self.admin)

    def propose(self) -> ev.ActionProposed:
        self.provider.enqueue(tool_reply("create_track", {"project_id": self.dsf, "name": self.name}))
        events = collect(
            run_turn(self.deps, self.cid, self.admin, f"Create {self.name} in Data Science Foundations")
        )
        return one(events, ev.ActionProposed)

    def audit(self, action_id: str) -> list[str]:
        return [e.event for e in self.services.store.audit.list(action_id=action_id, newest_first=False)]

    def tracks(self, name: str | None = None) -> list[dict[str, Any]]:
        return tracks_named(self.client, name or self.name, self.dsf)


@pytest.fixture
def setup(
    make_services: Callable[..., Services], sign_in: Any, platform: Any, request: pytest.FixtureRequest
) -> Setup:
    return Setup(make_services, sign_in, platform, f"Track {request.node.name[5:45]}")


# --- double approval ------------------------------------------------------------------------
def test_approving_twice_executes_once(setup: Setup) -> None:
    proposed = setup.propose()
    setup.provider.enqueue("Created. Add courses next?")
    first = collect(
        decisions.approve(setup.deps, setup.admin, proposed.action_id, expected_digest=proposed.digest)
    )
    assert one(first, ev.ActionExecuted).ok
    second = collect(
        decisions.approve(setup.deps, setup.admin, proposed.action_id, expected_digest=proposed.digest)
    )
    refused = one(second, ev.ErrorEvent)
    assert refused.code == "action_refused"
    assert refused.message == "This action was already carried out; nothing was done."
    assert not of(second, ev.ActionExecuted) and second[-1].stop == "error"  # type: ignore[attr-defined]
    assert setup.provider.remaining == 0  # the refusal did not call the model
    assert len(setup.tracks()) == 1
    assert setup.audit(proposed.action_id) == ["proposed", "approved", "executed", "refused"]


def test_concurrent_approvals_execute_exactly_once(setup: Setup) -> None:
    proposed = setup.propose()
    setup.provider.enqueue("Created.")
    outcomes = race(
        4,
        lambda _i: collect(
            decisions.approve(setup.deps, setup.admin, proposed.action_id, expected_digest=proposed.digest)
        ),
    )
    executed = [e for events in outcomes for e in of(events, ev.ActionExecuted)]
    refused = [e for events in outcomes for e in of(events, ev.ErrorEvent)]
    assert len(executed) == 1 and executed[0].ok
    assert len(refused) == 3 and {e.code for e in refused} == {"action_refused"}
    assert all("nothing" in e.message for e in refused)
    assert len(setup.tracks()) == 1
    action = setup.services.store.actions.require(proposed.action_id)
    assert action.status == "succeeded" and action.attempts == 1
    events = setup.audit(proposed.action_id)
    assert events.count("approved") == 1 and events.count("executed") == 1


# --- expiry, ownership, digests ---------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_an_expired_action_executes_nothing(setup: Setup) -> None:
    clock = Clock()
    setup.services.actions = ActionService(setup.services.store, setup.services.registry, 30, clock=clock)
    setup.deps = setup.services.turn_deps()
    proposed = setup.propose()
    assert setup.services.actions.waiting(conversation_id=setup.cid)
    clock.now += timedelta(minutes=31)

    events = collect(
        decisions.approve(setup.deps, setup.admin, proposed.action_id, expected_digest=proposed.digest)
    )

    assert one(events, ev.ErrorEvent).message.startswith("This action expired before it was approved")
    assert not of(events, ev.ActionExecuted)
    assert setup.services.store.actions.require(proposed.action_id).status == "expired"
    assert setup.services.actions.waiting(conversation_id=setup.cid) == []
    assert setup.tracks() == []
    assert setup.audit(proposed.action_id) == ["proposed", "expired"]
    # and it stays refused
    again = collect(
        decisions.approve(setup.deps, setup.admin, proposed.action_id, expected_digest=proposed.digest)
    )
    assert one(again, ev.ErrorEvent).message == "This action has expired; nothing was done."


def test_a_zero_ttl_expires_at_once(
    make_services: Callable[..., Services], sign_in: Any, platform: Any
) -> None:
    s = Setup(lambda p: make_services(p, action_ttl_minutes=0), sign_in, platform, "Zero TTL Track")
    proposed = s.propose()
    events = collect(decisions.approve(s.deps, s.admin, proposed.action_id, expected_digest=proposed.digest))
    assert "expired" in one(events, ev.ErrorEvent).message and s.tracks() == []


def test_nobody_else_may_decide_on_an_action(setup: Setup, sign_in: Any) -> None:
    proposed = setup.propose()
    for who in (INSTRUCTOR_A, ADMIN_B):
        other = sign_in(who)
        approve = collect(
            decisions.approve(setup.deps, other, proposed.action_id, expected_digest=proposed.digest)
        )
        assert one(approve, ev.ErrorEvent).message == "There is no such action waiting for you."
        reject = collect(decisions.reject(setup.deps, other, proposed.action_id, "mine now"))
        assert one(reject, ev.ErrorEvent).code == "action_refused"
        edit = collect(
            decisions.edit(setup.deps, other, proposed.action_id, {"project_id": setup.dsf, "name": "X"})
        )
        assert one(edit, ev.ErrorEvent).code == "action_refused"
    action = setup.services.store.actions.require(proposed.action_id)
    assert action.status == "pending" and action.digest == proposed.digest
    assert setup.tracks() == []
    refusals = setup.services.store.audit.list(action_id=proposed.action_id, event="refused")
    assert {r.user_id for r in refusals} >= {sign_in(INSTRUCTOR_A).user_id, sign_in(ADMIN_B).user_id}


def test_an_edit_revalidates_and_changes_the_digest_so_the_old_approval_is_refused(
    setup: Setup, sign_in: Any, platform: Any
) -> None:
    proposed = setup.propose()
    base = {"project_id": setup.dsf, "name": setup.name}

    invalid = collect(
        decisions.edit(setup.deps, setup.admin, proposed.action_id, {**base, "difficulty_level": "expert"})
    )
    assert one(invalid, ev.ErrorEvent).message.startswith(
        "Those values are not valid: Input should be 'beginner'"
    )
    other = sign_in(ADMIN_B)
    theirs = project_id(platform(other), other, "Cybersecurity Essentials")
    elsewhere = collect(
        decisions.edit(setup.deps, setup.admin, proposed.action_id, {**base, "project_id": theirs})
    )
    assert "not found in your organization" in one(elsewhere, ev.ErrorEvent).message
    assert setup.services.store.actions.require(proposed.action_id).digest == proposed.digest

    edited = one(
        collect(
            decisions.edit(
                setup.deps, setup.admin, proposed.action_id, {**base, "difficulty_level": "advanced"}
            )
        ),
        ev.ActionProposed,
    )
    assert edited.action_id == proposed.action_id and edited.digest != proposed.digest
    assert edited.preview == f"Create track '{setup.name}' (advanced) in project Data Science Foundations"
    assert edited.arguments["difficulty_level"] == "advanced"

    stale = collect(
        decisions.approve(setup.deps, setup.admin, proposed.action_id, expected_digest=proposed.digest)
    )
    assert one(stale, ev.ErrorEvent).message == (
        "The action changed after you saw it; nothing was done. Review it again."
    )
    assert setup.tracks() == []
    setup.provider.enqueue("Created the advanced track.")
    fresh = collect(
        decisions.approve(setup.deps, setup.admin, proposed.action_id, expected_digest=edited.digest)
    )
    assert one(fresh, ev.ActionExecuted).ok
    (track,) = setup.tracks()
    assert track["difficulty_level"] == "advanced"
    assert setup.audit(proposed.action_id) == [
        "proposed",
        "refused",
        "edited",
        "refused",
        "approved",
        "executed",
    ]


def test_a_deletion_needs_the_exact_name_typed_back(setup: Setup) -> None:
    made = setup.client.post("/tracks/", {"project_id": setup.dsf, "name": "Doomed Track"})
    setup.provider.enqueue(tool_reply("delete_track", {"track_id": made["id"]}))
    events = collect(run_turn(setup.deps, setup.cid, setup.admin, "Delete the track Doomed Track"))
    proposed = one(events, ev.ActionProposed)
    assert proposed.risk == "destructive" and proposed.confirm_name == "Doomed Track"
    assert proposed.preview == "Delete track 'Doomed Track'"

    for typed in (None, "", "doomed track", "Doomed"):
        refused = collect(
            decisions.approve(
                setup.deps,
                setup.admin,
                proposed.action_id,
                expected_digest=proposed.digest,
                confirm_text=typed,
            )
        )
        assert one(refused, ev.ErrorEvent).message == "To confirm, type the name exactly: Doomed Track"
    assert setup.services.store.actions.require(proposed.action_id).status == "pending"
    assert setup.client.get(f"/tracks/{made['id']}")["name"] == "Doomed Track"

    setup.provider.enqueue("Deleted.")
    done = collect(
        decisions.approve(
            setup.deps,
            setup.admin,
            proposed.action_id,
            expected_digest=proposed.digest,
            confirm_text=" Doomed Track ",
        )
    )
    assert one(done, ev.ActionExecuted).ok
    with pytest.raises(PlatformError) as gone:
        setup.client.get(f"/tracks/{made['id']}")
    assert gone.value.status == 404
    assert setup.audit(proposed.action_id) == ["proposed", *["refused"] * 4, "approved", "executed"]


# --- audit trail -------------------------------------------------------------------------------
def test_every_proposal_decision_and_execution_is_audited(setup: Setup) -> None:
    proposed = setup.propose()
    setup.provider.enqueue("Created.")
    collect(
        decisions.edit(
            setup.deps,
            setup.admin,
            proposed.action_id,
            {"project_id": setup.dsf, "name": setup.name, "max_students": 30},
        )
    )
    edited_digest = setup.services.store.actions.require(proposed.action_id).digest
    collect(decisions.approve(setup.deps, setup.admin, proposed.action_id, expected_digest=edited_digest))

    setup.provider.enqueue(
        tool_reply("create_track", {"project_id": setup.dsf, "name": "Never Made"}), "Fine, not created."
    )
    second = one(collect(run_turn(setup.deps, setup.cid, setup.admin, "Also Never Made")), ev.ActionProposed)
    rejected = collect(decisions.reject(setup.deps, setup.admin, second.action_id, "  not needed  "))
    assert one(rejected, ev.ActionExecuted).message == "Rejected: not needed"
    assert setup.tracks("Never Made") == []

    store = setup.services.store
    entries = store.audit.list(conversation_id=setup.cid, newest_first=False)
    assert [(e.event, e.action_id) for e in entries] == [
        ("proposed", proposed.action_id),
        ("edited", proposed.action_id),
        ("approved", proposed.action_id),
        ("executed", proposed.action_id),
        ("proposed", second.action_id),
        ("rejected", second.action_id),
    ]
    assert all(
        e.user_id == setup.admin.user_id and e.organization_id == setup.admin.organization_id for e in entries
    )
    proposed_entry, edited_entry, approved_entry, executed_entry, _, rejected_entry = entries
    assert proposed_entry.details == {"tool": "create_track", "preview": proposed.preview}
    assert edited_entry.details["arguments"]["max_students"] == 30
    assert approved_entry.details == {"retry": False}
    assert executed_entry.details["message"].startswith(f"Created track '{setup.name}'")
    assert rejected_entry.details == {"reason": "not needed"}
    assert store.actions.require(second.action_id).status == "rejected"


# --- the approval contract --------------------------------------------------------------------
def _tamper(setup: Setup, action_id: str, **values: Any) -> None:
    """Change the stored row behind the service's back (a bug, an old row, a manual edit)."""
    with setup.services.store.db.write() as session:
        session.execute(update(PendingAction).where(PendingAction.id == action_id).values(**values))


def test_approving_without_the_digest_runs_nothing(setup: Setup) -> None:
    proposed = setup.propose()
    for digest in (None, ""):
        events = collect(
            decisions.approve(setup.deps, setup.admin, proposed.action_id, expected_digest=digest)
        )
        assert "needs the digest" in one(events, ev.ErrorEvent).message
    assert setup.services.store.actions.require(proposed.action_id).status == "pending"
    assert setup.tracks() == []
    assert setup.audit(proposed.action_id) == ["proposed", "refused", "refused"]


def test_the_typed_back_name_follows_the_registered_risk_not_the_row(setup: Setup) -> None:
    made = setup.client.post("/tracks/", {"project_id": setup.dsf, "name": "Mislabelled Track"})
    setup.provider.enqueue(tool_reply("delete_track", {"track_id": made["id"]}))
    events = collect(run_turn(setup.deps, setup.cid, setup.admin, "Delete the track Mislabelled Track"))
    proposed = one(events, ev.ActionProposed)
    _tamper(setup, proposed.action_id, risk="write")
    refused = collect(
        decisions.approve(setup.deps, setup.admin, proposed.action_id, expected_digest=proposed.digest)
    )
    assert one(refused, ev.ErrorEvent).message == "To confirm, type the name exactly: Mislabelled Track"
    assert setup.client.get(f"/tracks/{made['id']}")["name"] == "Mislabelled Track"
    _tamper(setup, proposed.action_id, confirm_name=None)
    nameless = collect(
        decisions.approve(setup.deps, setup.admin, proposed.action_id, expected_digest=proposed.digest)
    )
    assert "no name to confirm with" in one(nameless, ev.ErrorEvent).message
    assert setup.client.get(f"/tracks/{made['id']}")["name"] == "Mislabelled Track"


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"tool": "create_track_v0"}, "The tool 'create_track_v0' of this action no longer exists"),
        (
            {"arguments": {"project_id": "", "name": "x"}},
            "The stored arguments are no longer valid (project_id:",
        ),
    ],
)
def test_an_action_that_can_no_longer_run_ends_failed_with_the_reason(
    setup: Setup, values: dict[str, Any], reason: str
) -> None:
    proposed = setup.propose()
    _tamper(setup, proposed.action_id, **values)
    setup.provider.enqueue("It could not run.")
    events = collect(
        decisions.approve(setup.deps, setup.admin, proposed.action_id, expected_digest=proposed.digest)
    )
    executed = one(events, ev.ActionExecuted)
    assert not executed.ok and executed.status == "failed" and not executed.retryable
    assert executed.message.startswith(reason)
    action = setup.services.store.actions.require(proposed.action_id)
    assert action.status == "failed" and action.error is not None and action.error.startswith(reason)
    assert setup.audit(proposed.action_id) == ["proposed", "failed"]
    again = collect(
        decisions.approve(setup.deps, setup.admin, proposed.action_id, expected_digest=proposed.digest)
    )
    assert one(again, ev.ErrorEvent).code == "action_refused"
    assert setup.tracks() == []
