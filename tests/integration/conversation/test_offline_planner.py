"""The offline planner end to end: no LLM, the real sandbox platform, the real turn loop."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.conversation import decisions
from app.conversation import events as ev
from app.conversation.turn import run_turn
from app.permissions.policy import UserContext
from app.platform.client import PlatformClient
from app.providers.offline import OfflineProvider
from app.services import Services
from indexing.builder import IndexBuilder
from indexing.embedder import shared_embedder

from .conftest import STUDENT_A
from .helpers import collect, done, new_conversation, of, one, project_id, text_of, tracks_named

SANDBOX = Path(__file__).resolve().parents[3] / "sandbox"


def say(services: Services, user: UserContext, conversation: str, text: str) -> list[ev.Event]:
    return collect(run_turn(services.turn_deps(), conversation, user, text))


def test_the_design_note_example_end_to_end(
    offline: Services, admin: UserContext, platform: Callable[[UserContext], PlatformClient]
) -> None:
    conv = new_conversation(offline, admin)

    first = say(offline, admin, conv, "Create a beginner track for Python")
    asked = text_of(first)
    assert "Which project" in asked
    assert "Data Science Foundations" in asked  # it offers the organization's projects
    assert not of(first, ev.ActionProposed)

    second = say(offline, admin, conv, "Data Science Foundations")
    lookup = one(second, ev.ToolUsed)
    assert (lookup.tool, lookup.ok) == ("find_project", True)
    proposal = one(second, ev.ActionProposed)
    assert (
        proposal.preview
        == "Create track 'Python Fundamentals' (beginner) in project Data Science Foundations"
    )
    assert done(second).stop == "action_proposed"
    client = platform(admin)
    dsf = project_id(client, admin, "Data Science Foundations")
    assert tracks_named(client, "Python Fundamentals", dsf) == []  # nothing happens before approval

    third = collect(
        decisions.approve(offline.turn_deps(), admin, proposal.action_id, expected_digest=proposal.digest)
    )
    executed = one(third, ev.ActionExecuted)
    assert executed.ok and executed.status == "succeeded"
    created = tracks_named(client, "Python Fundamentals", dsf)
    assert len(created) == 1 and created[0]["difficulty_level"] == "beginner"
    confirmation = text_of(third)
    assert (
        "Created 'Python Fundamentals' track (Beginner level) in Data Science Foundations project"
        in confirmation
    )
    assert "Would you like to add courses" in confirmation


def test_a_complete_request_is_proposed_at_once_and_a_later_level_is_taken(
    offline: Services, admin: UserContext
) -> None:
    conv = new_conversation(offline, admin)
    events = say(offline, admin, conv, "create an intermediate Rust track in Cloud Engineering Pathway")
    assert one(events, ev.ActionProposed).preview == (
        "Create track 'Intermediate Rust' (intermediate) in project Cloud Engineering Pathway"
    )

    conv2 = new_conversation(offline, admin)
    assert "Which project" in text_of(say(offline, admin, conv2, "Create a track for Kotlin"))
    still_asking = say(offline, admin, conv2, "and make it advanced")
    assert "Which project" in text_of(still_asking)
    proposal = one(say(offline, admin, conv2, "Cloud Engineering Pathway"), ev.ActionProposed)
    assert "(advanced)" in proposal.preview


def test_an_unknown_project_is_asked_again_and_a_cancel_drops_the_request(
    offline: Services, admin: UserContext
) -> None:
    conv = new_conversation(offline, admin)
    say(offline, admin, conv, "Create a beginner track for Go")
    missing = say(offline, admin, conv, "Underwater Basket Weaving")
    reply = text_of(missing)
    assert "No project matches" in reply and "Data Science Foundations" in reply
    assert not of(missing, ev.ActionProposed)
    dropped = say(offline, admin, conv, "never mind")
    assert "dropped" in text_of(dropped)
    assert offline.actions.waiting(conversation_id=conv) == []


def test_reads_are_answered_from_the_platform(offline: Services, admin: UserContext) -> None:
    conv = new_conversation(offline, admin)
    listing = text_of(say(offline, admin, conv, "list the projects"))
    for name in ("Data Science Foundations", "Web Development Bootcamp", "Cloud Engineering Pathway"):
        assert name in listing
    assert "Cybersecurity Essentials" not in listing  # the other organization's project
    summary = text_of(say(offline, admin, conv, "give me an overview of the organization"))
    assert "Projects: 3" in summary


def test_a_rejected_proposal_changes_nothing(
    offline: Services, admin: UserContext, platform: Callable[[UserContext], PlatformClient]
) -> None:
    conv = new_conversation(offline, admin)
    proposal = one(
        say(
            offline, admin, conv, 'create a project called "Robotics Club" covering robot kits for teenagers'
        ),
        ev.ActionProposed,
    )
    reply = collect(decisions.reject(offline.turn_deps(), admin, proposal.action_id, "not now"))
    assert "didn't change anything" in text_of(reply)
    names = [p["name"] for p in platform(admin).list_all(f"/organizations/{admin.organization_id}/projects")]
    assert "Robotics Club" not in names


def test_a_delete_needs_the_name_typed_back(
    offline: Services, admin: UserContext, platform: Callable[[UserContext], PlatformClient]
) -> None:
    conv = new_conversation(offline, admin)
    create = one(
        say(offline, admin, conv, 'create a project called "Scratch Area" about trying things out'),
        ev.ActionProposed,
    )
    collect(decisions.approve(offline.turn_deps(), admin, create.action_id, expected_digest=create.digest))

    proposal = one(say(offline, admin, conv, "delete the Scratch Area project"), ev.ActionProposed)
    assert proposal.confirm_name == "Scratch Area"
    refused = collect(
        decisions.approve(
            offline.turn_deps(),
            admin,
            proposal.action_id,
            expected_digest=proposal.digest,
            confirm_text="scratch",
        )
    )
    assert "type the name exactly" in one(refused, ev.ErrorEvent).message
    deleted = collect(
        decisions.approve(
            offline.turn_deps(),
            admin,
            proposal.action_id,
            expected_digest=proposal.digest,
            confirm_text="Scratch Area",
        )
    )
    assert one(deleted, ev.ActionExecuted).ok
    names = [p["name"] for p in platform(admin).list_all(f"/organizations/{admin.organization_id}/projects")]
    assert "Scratch Area" not in names


def test_a_student_is_told_their_role_cannot_delete(
    offline: Services, sign_in: Callable[..., UserContext]
) -> None:
    student = sign_in(STUDENT_A)
    conv = new_conversation(offline, student)
    events = say(offline, student, conv, "delete the Data Science Foundations project")
    assert not of(events, ev.ActionProposed)
    assert "cannot do that" in text_of(events)


def test_questions_get_extracts_with_citations(
    make_services: Callable[..., Services], admin: UserContext, tmp_path: Path
) -> None:
    index_dir = tmp_path / "sandbox-index"
    IndexBuilder(index_dir, shared_embedder).build(SANDBOX)
    services = make_services(OfflineProvider(), index_dir=index_dir)
    conv = new_conversation(services, admin)
    events = say(services, admin, conv, "Can I lower a track's capacity below the students already enrolled?")
    retrieved = one(events, ev.ContextRetrieved)
    assert retrieved.chunks and retrieved.chunks[0]["cite"] == "S1"
    answer = text_of(events)
    assert "[S1]" in answer
    assert any(c["path"] in answer for c in retrieved.chunks[:3])
    assert "max_students" in answer  # the rule itself is quoted
    assert not of(events, ev.ActionProposed)
