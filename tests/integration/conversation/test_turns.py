"""Turns: numbered and stored events, the read model, worker threads, cancellation and recovery."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from datetime import timedelta

import pytest

from app.conversation import events as ev
from app.conversation.journal import STALE_AFTER, begin_turn, journaled, recover_stale
from app.conversation.turn import run_turn
from app.conversation.view import conversation_view
from app.permissions.policy import UserContext
from app.providers.offline import OfflineProvider
from app.providers.scripted import ScriptedProvider, text_reply, tool_reply
from app.services import Services
from app.store import TurnBusyError
from app.usage.usage import Usage
from tests.support.providers import GatedProvider

from .helpers import new_conversation


def wire(events: list[ev.Event]) -> list[dict[str, object]]:
    return [e.to_dict() for e in events]


def test_events_are_numbered_stored_and_folded_into_the_same_view(
    make_services: Callable[..., Services], admin: UserContext
) -> None:
    services = make_services(OfflineProvider())
    conv = new_conversation(services, admin)
    first = services.runner.send(services.turn_deps(), conv, admin, "list the projects")
    assert first.wait(30)
    live = first.events()
    assert isinstance(live[0], ev.TurnStarted) and live[0].label == "list the projects"
    assert isinstance(live[-1], ev.Done) and live[-1].stop == "end_turn"
    assert {e.turn_id for e in live} == {first.id}
    assert [e.seq for e in live] == list(range(1, len(live) + 1))

    stored = services.store.turns.events(conv)
    assert [e.to_dict() for e in stored] == wire(live)  # a reload sees what the live renderer saw

    second = services.runner.send(services.turn_deps(), conv, admin, "how many tracks are there?")
    assert second.wait(30)
    assert second.events()[0].seq == len(live) + 1  # numbering continues within the conversation

    view = conversation_view(services.store, conv)
    assert view is not None and [t.label for t in view.turns] == [
        "list the projects",
        "how many tracks are there?",
    ]
    turn = view.turns[0]
    assert turn.status == "completed" and "Data Science Foundations" in turn.text
    assert turn.text == first.view().text and turn.steps == first.view().steps
    assert turn.answer_seq is not None  # feedback has a message to refer to
    assert view.last_seq == second.events()[-1].seq


def test_done_carries_the_turns_usage_and_cost(
    make_services: Callable[..., Services], admin: UserContext
) -> None:
    provider = ScriptedProvider(model="claude-sonnet-5-5")
    provider.enqueue(
        tool_reply("list_projects", {}, usage=Usage(input_tokens=1000, output_tokens=50, cache_read_tokens=400, requests=1)),
        text_reply("Three projects.", usage=Usage(input_tokens=1200, output_tokens=30, cache_write_tokens=100, requests=1)),
    )  # fmt: skip
    services = make_services(provider)
    conv = new_conversation(services, admin)
    live = services.runner.send(services.turn_deps(), conv, admin, "what projects do we have?")
    assert live.wait(30)
    done = live.events()[-1]
    assert isinstance(done, ev.Done) and done.usage is not None
    usage = done.usage
    assert (usage["calls"], usage["input_tokens"], usage["output_tokens"]) == (2, 2200, 80)
    assert (usage["cache_read_tokens"], usage["cache_write_tokens"]) == (400, 100)
    # claude-sonnet-5-5 in the price table: the turn's cost is the sum of the two calls' costs
    costs = [e.cost_usd for e in live.events() if isinstance(e, ev.UsageReported)]
    assert (
        usage["cost_usd"] == pytest.approx(sum(c for c in costs if c is not None)) and usage["cost_usd"] > 0
    )
    assert usage["latency_ms"] > 0
    ledger = services.store.usage.totals(conversation_id=conv)[0]
    assert ledger.input_tokens == 2200 and ledger.calls == 2  # the conversation's total in the ledger


def test_an_unpriced_model_is_unpriced_not_free(
    make_services: Callable[..., Services], admin: UserContext
) -> None:
    services = make_services(ScriptedProvider(model="no-such-model").enqueue("Hello."))
    conv = new_conversation(services, admin)
    live = services.runner.send(services.turn_deps(), conv, admin, "hi")
    assert live.wait(30)
    done = live.events()[-1]
    assert isinstance(done, ev.Done) and done.usage is not None
    assert done.usage["cost_usd"] is None and done.usage["unpriced_calls"] == 1


def test_one_turn_at_a_time_per_conversation(
    make_services: Callable[..., Services], admin: UserContext
) -> None:
    provider = GatedProvider(["Working "], ["on it."])
    services = make_services(provider)
    conv = new_conversation(services, admin)
    live = services.runner.send(services.turn_deps(), conv, admin, "first")
    assert provider.started.wait(10)
    with pytest.raises(TurnBusyError):
        services.runner.send(services.turn_deps(), conv, admin, "second")
    other = new_conversation(services, admin)  # other conversations are not blocked
    assert services.store.turns.running(other) is None
    provider.gate.set()
    assert live.wait(10)
    assert services.store.turns.running(conv) is None


def test_stop_keeps_what_was_streamed_and_ends_as_cancelled(
    make_services: Callable[..., Services], admin: UserContext
) -> None:
    provider = GatedProvider(["The first ", "half "], ["never sent"])
    services = make_services(provider)
    conv = new_conversation(services, admin)
    live = services.runner.send(services.turn_deps(), conv, admin, "tell me everything")
    assert provider.started.wait(10)
    assert services.runner.cancel(live.id)
    provider.gate.set()
    assert live.wait(10)
    view = conversation_view(services.store, conv)
    assert view is not None
    (turn,) = view.turns
    assert turn.status == "cancelled" and turn.text.startswith("The first half")
    assert "never sent" not in turn.text
    messages = services.store.conversations.list_messages(conv)
    assert messages[0].content == [
        {"type": "text", "text": "tell me everything"}
    ]  # the user's message is kept
    assert messages[-1].role == "assistant" and "[cancelled]" in messages[-1].content[0]["text"]


def test_a_cancel_requested_in_the_store_stops_a_turn_run_elsewhere(
    make_services: Callable[..., Services], admin: UserContext
) -> None:
    provider = GatedProvider(["Partial "], ["rest"])
    services = make_services(provider)
    conv = new_conversation(services, admin)
    live = services.runner.send(services.turn_deps(), conv, admin, "go")
    assert provider.started.wait(10)
    assert services.store.turns.request_cancel(live.id)  # what another process's Stop does
    time.sleep(0.6)  # past the journal's cancel check interval
    provider.gate.set()
    assert live.wait(10)
    assert services.store.turns.get(live.id).status == "cancelled"  # type: ignore[union-attr]


def test_a_consumer_that_leaves_cancels_the_turn_and_loses_nothing(
    make_services: Callable[..., Services], admin: UserContext
) -> None:
    services = make_services(ScriptedProvider().enqueue("A long answer in many words that is cut short."))
    conv = new_conversation(services, admin)
    deps = services.turn_deps()
    turn = begin_turn(services.store, conv, user_id=admin.user_id, organization_id=admin.organization_id,
                      kind="message", label="question")  # fmt: skip
    stream = journaled(services.store, turn, lambda cancel: run_turn(deps, conv, admin, "question", cancel))
    next(stream)  # turn_started, then the consumer goes away (a rerun closing the generator)
    assert isinstance(stream, Generator)
    stream.close()
    stored = services.store.turns.get(turn.id)
    assert stored is not None and stored.status == "cancelled" and stored.stop == "cancelled"
    assert services.store.conversations.list_messages(conv)[0].content[0]["text"] == "question"
    assert services.store.turns.running(conv) is None  # the conversation is free again


def test_an_engine_that_raises_still_ends_the_turn(
    make_services: Callable[..., Services], admin: UserContext
) -> None:
    services = make_services(OfflineProvider())
    conv = new_conversation(services, admin)

    def broken(cancel: threading.Event) -> Iterator[ev.Event]:
        yield ev.TextDelta(conv, text="so far ")
        raise RuntimeError("boom")

    live = services.runner.start(conv, admin, "message", "breaks", broken)
    assert live.wait(10)
    events = live.events()
    assert [e.type for e in events[-2:]] == ["error", "done"]
    view = conversation_view(services.store, conv)
    assert view is not None and view.turns[0].status == "error" and view.turns[0].text == "so far "


def test_a_turn_whose_process_died_is_ended_as_interrupted(
    make_services: Callable[..., Services], admin: UserContext
) -> None:
    services = make_services(OfflineProvider())
    store = services.store
    conv = new_conversation(services, admin)
    turn = store.turns.start(conv, user_id=admin.user_id, organization_id=admin.organization_id, kind="message",
                             label="lost", owner="elsewhere:1:dead")  # fmt: skip
    store.turns.append_events(turn.id, [
        {"type": "turn_started", "conversation_id": conv, "turn_id": turn.id, "seq": 1, "label": "lost"},
        {"type": "text_delta", "conversation_id": conv, "turn_id": turn.id, "seq": 2, "text": "half an "},
    ])  # fmt: skip
    assert recover_stale(store, conv) == []  # its heartbeat is fresh: it may still be running elsewhere
    later = store.db.clock() + STALE_AFTER + timedelta(seconds=1)
    store.db.clock = lambda: later
    assert recover_stale(store, conv) == [turn.id]
    view = conversation_view(store, conv)
    assert view is not None
    (recovered,) = view.turns
    assert (
        recovered.status == "cancelled" and recovered.stop == "interrupted" and recovered.text == "half an "
    )
    assert recovered.errors[-1]["code"] == "interrupted"
    assert [e.seq for e in store.turns.events(conv)] == [1, 2, 3, 4]
    live = services.runner.send(services.turn_deps(), conv, admin, "list the projects")  # usable again
    assert live.wait(30) and live.events()[0].seq == 5


def test_a_turn_left_running_by_a_dead_local_process_is_recovered_at_once(
    make_services: Callable[..., Services], admin: UserContext
) -> None:
    import socket
    import subprocess
    import sys

    services = make_services(OfflineProvider())
    conv = new_conversation(services, admin)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    owner = f"{socket.gethostname()}:{dead.stdout.strip()}:gone"
    services.store.turns.start(conv, user_id=admin.user_id, organization_id=admin.organization_id,
                               kind="message", label="orphan", owner=owner)  # fmt: skip
    live = services.runner.send(services.turn_deps(), conv, admin, "list the projects")
    assert live.wait(30)
    view = conversation_view(services.store, conv)
    assert view is not None and [t.stop for t in view.turns] == ["interrupted", "end_turn"]


def test_decisions_are_turns_and_the_view_shows_each_actions_current_state(
    make_services: Callable[..., Services], admin: UserContext
) -> None:
    services = make_services(OfflineProvider())
    conv = new_conversation(services, admin)
    deps = services.turn_deps()
    ask = services.runner.send(
        deps, conv, admin, "create an intermediate Rust track in Cloud Engineering Pathway"
    )
    assert ask.wait(30)
    view = conversation_view(services.store, conv)
    assert view is not None
    (action,) = view.waiting
    assert view.turns[0].proposed == [action.id] and action.status == "pending"
    assert {"field": "name", "after": "Intermediate Rust"}.items() <= next(
        c for c in action.changes if c["field"] == "name"
    ).items()
    assert any(c["field"] == "tracks" for c in action.changes)  # the project's track count, before and after

    decided = services.runner.approve(deps, admin, action.id, expected_digest=action.digest)
    assert decided.wait(30)
    view = conversation_view(services.store, conv)
    assert view is not None and not view.waiting
    decision = view.turns[1]
    assert decision.kind == "decision" and decision.label.startswith(
        "Approved: Create track 'Intermediate Rust'"
    )
    assert decision.outcomes[0]["ok"] and view.actions[action.id].status == "succeeded"
    assert "Created" in view.actions[action.id].outcome


def test_done_is_stored_with_the_turns_end_and_its_summary(make_services: Callable[..., Services], admin: UserContext,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """A reader polling the store must never see a turn's Done while the turn still holds its
    conversation (a client would send its next message and be told the assistant is busy)."""
    services = make_services(OfflineProvider())
    conv = new_conversation(services, admin)
    appended: list[str] = []
    original = services.store.turns.append_events

    def spy(turn_id: str, events: list[dict[str, object]]) -> None:
        appended.extend(str(e["type"]) for e in events)
        original(turn_id, events)

    monkeypatch.setattr(services.store.turns, "append_events", spy)
    live = services.runner.send(
        services.turn_deps(), conv, admin, "create an advanced Zig track in Cloud Engineering Pathway"
    )
    assert live.wait(30)
    assert "done" not in appended  # it comes with finish(), in the same transaction as the turn's end
    stored = services.store.turns.get(live.id)
    assert stored is not None and stored.status == "completed"
    assert [e.type for e in services.store.turns.events(conv)][-1] == "done"
    assert stored.proposals == 1 and stored.tools == ["find_project", "create_track"]
    assert stored.latency_ms is not None and stored.latency_ms > 0
