"""The offline planner on ordinary admin requests, each defect class with several wordings.

Against the real sandbox over HTTP and the real turn loop. Nothing here changes Data Science
Foundations or Web Development Bootcamp's tracks and courses, so the counts asked about them are
the seed's own (3 tracks each); tests that approve create their own tracks in Cloud Engineering
Pathway, so the organization's total is read from the platform.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.actions.service import ActionError
from app.conversation import decisions
from app.conversation import events as ev
from app.conversation.turn import run_turn
from app.permissions.policy import UserContext
from app.platform.client import PlatformClient
from app.services import Services
from app.tools.base import ToolContext

from .conftest import INSTRUCTOR_A
from .helpers import collect, new_conversation, of, one, project_id, text_of, tracks_named

NW = "northwind-academy.example"
CLOUD = "Cloud Engineering Pathway"


class Chat:
    """One conversation with the offline assistant."""

    def __init__(self, services: Services, user: UserContext) -> None:
        self.services, self.user = services, user
        self.id = new_conversation(services, user)

    def say(self, text: str) -> list[ev.Event]:
        return collect(run_turn(self.services.turn_deps(), self.id, self.user, text))

    def approve(self, proposal: ev.ActionProposed) -> list[ev.Event]:
        return collect(
            decisions.approve(
                self.services.turn_deps(), self.user, proposal.action_id, expected_digest=proposal.digest
            )
        )


def proposed(events: list[ev.Event]) -> ev.ActionProposed:
    return one(events, ev.ActionProposed)


# --- verbs and prepositions ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Put a beginner track called 'Docker Basics' into Cloud Engineering Pathway",
        'Add a beginner track called "Docker Basics" to Cloud Engineering Pathway',
        "Under Cloud Engineering Pathway, create a beginner track named 'Docker Basics'",
        "Inside the Cloud Engineering Pathway project, set up a beginner track called 'Docker Basics'",
        "I'd like a beginner track called 'Docker Basics' within Cloud Engineering Pathway",
        "Make a beginner 'Docker Basics' track for Cloud Engineering Pathway",
        "Please place a new beginner track, 'Docker Basics', in the Cloud Engineering Pathway program",
    ],
)
def test_a_track_request_is_understood_whatever_the_verb_and_preposition(
    offline: Services, admin: UserContext, text: str
) -> None:
    events = Chat(offline, admin).say(text)
    assert (
        proposed(events).preview
        == "Create track 'Docker Basics' (beginner) in project Cloud Engineering Pathway"
    )


# --- a name lookup never settles on another resource ---------------------------------------------
@pytest.mark.parametrize(
    ("text", "wanted", "similar"),
    [
        ("Publish the Python Basics track", "Python Basics", "Python for Data Analysis"),
        ("Delete the Machine Learning track", "Machine Learning", "Applied Machine Learning"),
        ("Publish the course Supervised Learning", "Supervised Learning", "Supervised Learning in Practice"),
        (
            f"Enroll hana.sato@{NW} in the Frontend track",
            "Frontend",
            "Frontend Fundamentals",
        ),
    ],
)
def test_no_exact_name_means_candidates_offered_and_nothing_proposed(
    offline: Services, admin: UserContext, text: str, wanted: str, similar: str
) -> None:
    chat = Chat(offline, admin)
    events = chat.say(text)
    assert not of(events, ev.ActionProposed)
    reply = text_of(events)
    assert f"named {wanted!r}" in reply and similar in reply
    assert offline.actions.waiting(conversation_id=chat.id) == []


def test_a_candidate_is_used_only_once_the_user_names_or_confirms_it(
    offline: Services, admin: UserContext
) -> None:
    chat = Chat(offline, admin)
    assert not of(chat.say("Delete the Machine Learning track"), ev.ActionProposed)
    confirmed = proposed(chat.say("Applied Machine Learning"))
    assert confirmed.preview.startswith("Delete track 'Applied Machine Learning'")

    single = Chat(offline, admin)
    asked = single.say("Publish the Scalable Web track")
    assert "There is no track named 'Scalable Web'" in text_of(asked)
    assert "Is that the one you mean?" in text_of(asked)  # a single candidate
    assert proposed(single.say("yes")).preview.startswith("Publish track 'Scalable Web Architecture'")

    several = Chat(offline, admin)
    asked = several.say("Publish the Deep Learning track")
    assert "There is no track named 'Deep Learning'" in text_of(asked)
    assert not of(several.say("yes"), ev.ActionProposed)  # which of them? "yes" chooses none
    assert proposed(several.say("the first one")).preview.startswith("Publish track 'Deep Learning Systems'")


# --- kind words are not part of names ------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "tool", "name"),
    [
        ("Publish the Deep Learning Systems track", "find_track", "Deep Learning Systems"),
        ("Please make the Deep Learning Systems learning track live", "find_track", "Deep Learning Systems"),
        ("Delete the Scalable Web Architecture track", "find_track", "Scalable Web Architecture"),
        ("Remove the course Model Evaluation and Tuning", "find_course", "Model Evaluation and Tuning"),
    ],
)
def test_the_kind_word_is_not_looked_up_as_part_of_the_name(
    offline: Services, admin: UserContext, text: str, tool: str, name: str
) -> None:
    events = Chat(offline, admin).say(text)
    lookup = one(events, ev.ToolUsed)
    assert lookup.tool == tool and list(lookup.arguments.values()) == [name]
    assert name in proposed(events).preview


# --- required values are asked, and values outside the set refused --------------------------------
@pytest.mark.parametrize(
    ("request_text", "answer", "level"),
    [
        ("Create a track called 'Helm Charts' in Cloud Engineering Pathway", "intermediate", "intermediate"),
        ("Add a 'Kafka Streams' track to Cloud Engineering Pathway", "let's make it advanced", "advanced"),
        ("Put a track named 'Linux Admin' into Cloud Engineering Pathway", "Beginner please", "beginner"),
    ],
)
def test_a_tracks_level_is_asked_and_the_answer_completes_the_request(
    offline: Services, admin: UserContext, request_text: str, answer: str, level: str
) -> None:
    chat = Chat(offline, admin)
    asked = chat.say(request_text)
    assert not of(asked, ev.ActionProposed)
    assert "Which level" in text_of(asked) and "beginner, intermediate or advanced" in text_of(asked)
    proposal = proposed(chat.say(answer))
    assert proposal.arguments["difficulty_level"] == level and f"({level})" in proposal.preview


def test_every_missing_value_is_asked_before_any_preview(offline: Services, admin: UserContext) -> None:
    chat = Chat(offline, admin)
    first = chat.say("Create a track for Kotlin")
    assert "Which project" in text_of(first) and not of(first, ev.ActionProposed)
    second = chat.say(CLOUD)
    assert "Which level" in text_of(second) and not of(second, ev.ActionProposed)
    proposal = proposed(chat.say("beginner"))
    assert (
        proposal.preview
        == "Create track 'Kotlin Fundamentals' (beginner) in project Cloud Engineering Pathway"
    )


@pytest.mark.parametrize(
    ("request_text", "word"),
    [
        ("Create an expert track called 'Rust Internals' in Cloud Engineering Pathway", "expert"),
        ("Add a master-level track called 'Rust Internals' to Cloud Engineering Pathway", "master"),
        ("Create a track called 'Rust Internals' in Cloud Engineering Pathway, level: pro", "pro"),
    ],
)
def test_a_level_the_platform_lacks_is_refused_and_the_allowed_ones_offered(
    offline: Services, admin: UserContext, request_text: str, word: str
) -> None:
    chat = Chat(offline, admin)
    refused = chat.say(request_text)
    assert not of(refused, ev.ActionProposed)
    reply = text_of(refused)
    assert f"'{word}' is not a level" in reply and "beginner, intermediate or advanced" in reply
    again = chat.say("expert")  # asked again, still refused
    assert not of(again, ev.ActionProposed) and "'expert' is not a level" in text_of(again)
    assert proposed(chat.say("advanced")).arguments["difficulty_level"] == "advanced"


# --- descriptions are the user's words -----------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'Create a project called "Data Literacy" covering spreadsheets and basic statistics for new '
            "analysts, 6 weeks",
            ("spreadsheets and basic statistics", "new analysts", "6 weeks"),
        ),
        (
            'Create a 4-week project called "Green Skills" about sustainability reporting aimed at managers',
            ("sustainability reporting", "managers", "4 weeks"),
        ),
        (
            'Set up a project named "Cloud 101" that teaches AWS basics to junior developers',
            ("AWS basics", "junior developers"),
        ),
    ],
)
def test_a_project_description_uses_what_the_user_said(
    offline: Services, admin: UserContext, text: str, expected: tuple[str, ...]
) -> None:
    description = proposed(Chat(offline, admin).say(text)).arguments["description"]
    for words in expected:
        assert words in description
    assert "created with the AI assistant" not in description


def test_a_project_without_a_description_is_asked_for_one(offline: Services, admin: UserContext) -> None:
    chat = Chat(offline, admin)
    asked = chat.say('Open a new project called "Reporting Lab"')
    assert "cover" in text_of(asked) and not of(asked, ev.ActionProposed)
    proposal = proposed(chat.say("SQL and dashboards for product managers who need their own reports"))
    assert proposal.arguments["description"] == (
        "SQL and dashboards for product managers who need their own reports."
    )


def test_a_track_description_and_audience_come_from_the_request(
    offline: Services, admin: UserContext
) -> None:
    proposal = proposed(
        Chat(offline, admin).say(
            "Create a beginner track called 'Git Essentials' in Cloud Engineering Pathway covering branching "
            "and pull requests for junior developers"
        )
    )
    assert proposal.arguments["description"] == "Covers branching and pull requests. For junior developers."
    assert proposal.arguments["target_audience"] == ["junior developers"]


# --- counts at the scope asked -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("how many tracks does Data Science Foundations have?", "has 3 tracks"),
        ("How many tracks are in Web Development Bootcamp?", "has 3 tracks"),
        ("What's the number of tracks in the Data Science Foundations project?", "has 3 tracks"),
        ("how many courses does the Applied Machine Learning track have", "has 2 courses"),
        ("How many students are enrolled in the Frontend Fundamentals track?", "has 4 enrolled students"),
        ("How many courses are in Frontend Fundamentals?", "has 2 courses"),  # not a project: a track
        ("How many students are enrolled in Python for Data Analysis?", "has 4 enrolled students"),
        ("how many tracks are there?", "Your organization has {org} tracks"),
    ],
)
def test_counts_are_answered_at_the_scope_asked(
    offline: Services,
    admin: UserContext,
    platform: Callable[[UserContext], PlatformClient],
    text: str,
    answer: str,
) -> None:
    summary = platform(admin).get(f"/analytics/organizations/{admin.organization_id}/summary")
    org_tracks = summary["tracks"]["total"]  # other tests of this module may add tracks to Cloud
    events = Chat(offline, admin).say(text)
    reply = text_of(events)
    assert answer.format(org=org_tracks) in reply, reply
    if "organization" not in answer:
        assert [u.tool for u in of(events, ev.ToolUsed)][-1] == "resource_counts"
        assert f"{org_tracks} tracks" not in reply


def test_a_list_is_scoped_to_the_project_named(offline: Services, admin: UserContext) -> None:
    reply = text_of(Chat(offline, admin).say("list the tracks in Web Development Bootcamp"))
    assert "Frontend Fundamentals" in reply and "Python for Data Analysis" not in reply


# --- changing a waiting proposal -----------------------------------------------------------------
def test_make_it_advanced_replaces_the_proposal_and_the_old_one_cannot_be_approved(
    offline: Services, admin: UserContext, platform: Callable[[UserContext], PlatformClient]
) -> None:
    chat = Chat(offline, admin)
    first = proposed(
        chat.say("Create a beginner track called 'Observability 101' in Cloud Engineering Pathway")
    )
    changed = chat.say("actually make it advanced")
    second = proposed(changed)
    assert second.arguments["difficulty_level"] == "advanced" and second.digest != first.digest
    assert "replaces the earlier proposal" in text_of(changed)
    old = offline.store.actions.require(first.action_id)
    assert old.status == "expired" and second.action_id in (old.reason or "")
    with (
        PlatformClient(str(offline.settings.platform_base_url), admin.token) as client,
        pytest.raises(ActionError, match="expired"),
    ):
        offline.actions.approve(ToolContext(admin, client), first.action_id, expected_digest=first.digest)
    refused = chat.approve(first)
    assert one(refused, ev.ErrorEvent).code == "action_refused"
    assert one(chat.approve(second), ev.ActionExecuted).ok
    client = platform(admin)
    (created,) = tracks_named(client, "Observability 101", project_id(client, admin, CLOUD))
    assert created["difficulty_level"] == "advanced"


@pytest.mark.parametrize(
    ("first_text", "change", "check"),
    [
        (
            "Create an intermediate track called 'Tracing' in Cloud Engineering Pathway",
            "call it 'Distributed Tracing' instead",
            ("name", "Distributed Tracing"),
        ),
        (
            "Create an intermediate track called 'Tracing' in Cloud Engineering Pathway",
            "no, make that beginner",
            ("difficulty_level", "beginner"),
        ),
        (
            f"Enroll ben.carter@{NW} in the Full-Stack JavaScript track",
            f"sorry, use chloe.dubois@{NW} instead",
            ("student_emails", [f"chloe.dubois@{NW}"]),
        ),
        (
            'Please publish the "Scalable Web Architecture" track',
            "no, I meant Deep Learning Systems",
            ("preview", "Publish track 'Deep Learning Systems'"),
        ),
        (
            f"Enroll ben.carter@{NW} in the Full-Stack JavaScript track",
            f"actually, also add chloe.dubois@{NW}",
            ("student_emails", [f"ben.carter@{NW}", f"chloe.dubois@{NW}"]),
        ),
        (
            'Create a project called "Ops Guild" about incident response for on-call engineers',
            "make it 8 weeks",
            ("duration_weeks", 8),
        ),
        (
            "Create an intermediate track called 'Tracing' in Cloud Engineering Pathway",
            "put it in Web Development Bootcamp instead",
            ("preview", "in project Web Development Bootcamp"),
        ),
    ],
)
def test_a_change_in_the_conversation_replaces_the_waiting_proposal(
    offline: Services, admin: UserContext, first_text: str, change: str, check: tuple[str, object]
) -> None:
    chat = Chat(offline, admin)
    first = proposed(chat.say(first_text))
    second = proposed(chat.say(change))
    key, value = check
    if key == "preview":
        assert str(value) in second.preview
    else:
        assert second.arguments[key] == value
    assert offline.store.actions.require(first.action_id).status == "expired"
    assert [a.id for a in offline.actions.waiting(conversation_id=chat.id)] == [second.action_id]
    assert one(chat.approve(first), ev.ErrorEvent).code == "action_refused"


def test_the_other_project_is_asked_when_there_are_several(offline: Services, admin: UserContext) -> None:
    chat = Chat(offline, admin)
    first = proposed(chat.say("Create an advanced track called 'Chaos Drills' in Cloud Engineering Pathway"))
    asked = chat.say("no, in the other project")
    assert "Which project instead of Cloud Engineering Pathway" in text_of(asked)
    assert "Data Science Foundations" in text_of(asked) and not of(asked, ev.ActionProposed)
    second = proposed(chat.say("Web Development Bootcamp"))
    assert second.preview.endswith("in project Web Development Bootcamp")
    assert offline.store.actions.require(first.action_id).status == "expired"


# --- what the platform would refuse is not proposed as if it would work ----------------------------
@pytest.mark.parametrize(
    ("text", "because"),
    [
        (f"Enroll hana.sato@{NW} in the Deep Learning Systems track", "is draft: students can only be"),
        (f"Sign up farah.haddad@{NW} for the Scalable Web Architecture track", "Publish it first"),
        (f"Enroll daniel.kim@{NW} in the Full-Stack JavaScript track", "an instructor, not a student"),
        ("Enroll nobody@nowhere.example in the Full-Stack JavaScript track", "no member with this email"),
        ("Publish the Model Evaluation and Tuning course", "no description"),
        (
            f"Assign liam.oconnor@{NW} to the Python for Data Analysis track as instructor",
            "not verified their",
        ),
        (f"Make aisha.rahman@{NW} an instructor of the Applied Machine Learning track", "a student, not an"),
    ],
)
def test_a_request_the_platform_would_refuse_is_not_proposed(
    offline: Services, admin: UserContext, text: str, because: str
) -> None:
    events = Chat(offline, admin).say(text)
    assert not of(events, ev.ActionProposed)
    reply = text_of(events)
    assert "nothing was proposed" in reply and because in reply


def test_an_instructor_is_not_offered_to_publish_a_course_they_do_not_own(
    offline: Services, sign_in: Callable[..., UserContext]
) -> None:
    instructor = sign_in(INSTRUCTOR_A)
    events = Chat(offline, instructor).say("Publish the Neural Networks from Scratch course")
    assert not of(events, ev.ActionProposed)
    assert "only publish their own courses" in text_of(events)


def test_the_preview_says_which_emails_will_fail(offline: Services, admin: UserContext) -> None:
    proposal = proposed(
        Chat(offline, admin).say(
            f"Enroll hana.sato@{NW}, daniel.kim@{NW} and nobody@nowhere.example in the Full-Stack "
            "JavaScript track"
        )
    )
    assert f"Will fail: daniel.kim@{NW} (an instructor, not a student)" in proposal.preview
    assert "nobody@nowhere.example (no member with this email" in proposal.preview
    assert f"hana.sato@{NW} (" not in proposal.preview
    fails = [c for c in proposal.changes if str(c["after"]).startswith("will fail")]
    assert len(fails) == 2


# --- outcomes are worded from the result's structure ---------------------------------------------
def test_a_successful_enrollment_is_reported_as_one(offline: Services, admin: UserContext) -> None:
    chat = Chat(offline, admin)
    proposal = proposed(
        chat.say(f"Enroll emma.johansson@{NW} and hana.sato@{NW} in the Full-Stack JavaScript track")
    )
    outcome = chat.approve(proposal)
    assert one(outcome, ev.ActionExecuted).ok
    reply = text_of(outcome)
    assert "didn't work" not in reply and "Enrolled 2 of 2 student(s)" in reply and reply.startswith("✓")


def test_the_checks_before_proposing_are_not_made_again_at_execution(
    offline: Services, admin: UserContext, platform: Callable[[UserContext], PlatformClient]
) -> None:
    """Executing re-checks permissions and scope, not the state the action itself changes: a
    retry whose first attempt went through must get the platform's (replayed) answer."""
    client = platform(admin)
    body = {
        "project_id": project_id(client, admin, CLOUD),
        "name": "Retry Drill",
        "difficulty_level": "beginner",
    }
    client.post("/tracks/", body)  # this test's own draft track
    chat = Chat(offline, admin)
    proposal = proposed(chat.say("Publish the Retry Drill track"))
    client.post(f"/tracks/{proposal.arguments['track_id']}/publish")  # published meanwhile, elsewhere
    executed = one(chat.approve(proposal), ev.ActionExecuted)
    assert not executed.ok and "Refused at execution" not in executed.message
    assert "draft" in executed.message  # the platform's own refusal
