"""The offline planner's reading of requests: intents and the values it can see."""

import pytest

from app.providers.offline.intents import detect, is_question, suggested_track_name


@pytest.mark.parametrize(
    ("text", "intent", "slots"),
    [
        (
            "Create a beginner track for Python",
            "create_track",
            {"name": "Python Fundamentals", "level": "beginner", "project": None},
        ),
        (
            "create an intermediate Python track in Data Science Foundations",
            "create_track",
            {"name": "Intermediate Python", "level": "intermediate", "project": "Data Science Foundations"},
        ),
        (
            'Can you create a project called "AI Literacy" for 8 weeks?',
            "create_project",
            {"name": "AI Literacy", "duration_weeks": 8},
        ),
        ("create a new project Machine Learning Lab", "create_project", {"name": "Machine Learning Lab"}),
        (
            "add a course on Pandas to the Python Fundamentals track",
            "create_course",
            {"title": "Pandas", "track": "Python Fundamentals"},
        ),
        (
            "delete the Web Development Bootcamp project",
            "delete_project",
            {"target": "Web Development Bootcamp", "force": False},
        ),
        ("publish the SQL Basics course", "publish_course", {"target": "SQL Basics"}),
        (
            "Invite Jane Doe (jane@x.org) as instructor to Data Science Foundations",
            "onboard_instructor",
            {"email": "jane@x.org", "full_name": "Jane Doe", "project": "Data Science Foundations"},
        ),
        (
            "enroll a@x.com, b@y.org in track Python Fundamentals",
            "enroll_students_in_track",
            {"emails": ["a@x.com", "b@y.org"], "track": "Python Fundamentals"},
        ),
        ("remove member bob@x.com", "remove_member", {"who": "bob@x.com"}),
        ("list the projects", "list_projects", {}),
        ("how many students are enrolled?", "organization_summary", {}),
        ("never mind", "cancel", {}),
    ],
)
def test_requests_are_read_with_their_values(text: str, intent: str, slots: dict[str, object]) -> None:
    got = detect(text)
    assert got.name == intent
    for key, value in slots.items():
        assert got.slots.get(key) == value, key


@pytest.mark.parametrize(
    "text",
    [
        "How do I create a track?",
        "What roles can an instructor have on a course?",
        "Can I delete a project with students?",
    ],
)
def test_questions_about_actions_are_questions_not_requests(text: str) -> None:
    assert detect(text).name == "question"


def test_polite_requests_are_requests() -> None:
    assert not is_question("Can you create a track for Go in Cloud Engineering Pathway?")
    assert detect("Can you create a track for Go in Cloud Engineering Pathway?").name == "create_track"


def test_track_names_follow_the_level() -> None:
    assert suggested_track_name("Python", "beginner") == "Python Fundamentals"
    assert suggested_track_name("Python", None) == "Python Fundamentals"
    assert suggested_track_name("SQL", "intermediate") == "Intermediate SQL"
    assert suggested_track_name("Go", "advanced") == "Advanced Go"
