"""Edit forms generated from tool input models, and their values back to tool arguments."""

from __future__ import annotations

from datetime import date

from app.tools.writes import CreateCourse, CreateProject, CreateTrack
from components.forms import form_fields, from_arguments, to_arguments


def test_each_field_gets_the_widget_its_type_needs() -> None:
    fields = {f.name: f for f in form_fields(CreateTrack)}
    assert fields["difficulty_level"].kind == "choice"
    assert fields["difficulty_level"].options == ("beginner", "intermediate", "advanced")
    assert fields["name"].kind == "text" and fields["name"].required
    assert fields["description"].kind == "long_text" and not fields["description"].required
    weeks = fields["duration_weeks"]
    assert (weeks.kind, weeks.minimum, weeks.maximum, weeks.optional_value) == ("integer", 1, 52, True)
    assert fields["learning_objectives"].kind == "list"
    assert [f.name for f in form_fields(CreateTrack)][:3] == ["project_id", "name", "difficulty_level"]
    project = {f.name: f for f in form_fields(CreateProject)}
    assert project["start_date"].kind == "date" and project["description"].help == "10-2000 characters"
    assert {f.name: f.kind for f in form_fields(CreateCourse)}["price"] == "number"


def test_values_round_trip_through_the_form() -> None:
    fields = form_fields(CreateTrack)
    arguments = {"project_id": "p1", "name": "Python", "difficulty_level": "advanced", "description": "",
                 "learning_objectives": ["Read data", "Plot it"], "duration_weeks": None}  # fmt: skip
    shown = from_arguments(fields, arguments)
    assert shown["learning_objectives"] == "Read data\nPlot it" and shown["description"] == ""
    back = to_arguments(fields, {**shown, "learning_objectives": "Read data\n\n  Plot it \n"})
    assert back == {"project_id": "p1", "name": "Python", "difficulty_level": "advanced",
                    "target_audience": [], "prerequisites": [], "learning_objectives": ["Read data", "Plot it"]}  # fmt: skip
    assert CreateTrack.model_validate(back).learning_objectives == ["Read data", "Plot it"]


def test_dates_are_sent_as_iso_text() -> None:
    fields = form_fields(CreateProject)
    values = from_arguments(fields, {"name": "P", "description": "long enough", "start_date": "2027-01-15"})
    assert values["start_date"] == date(2027, 1, 15)
    assert to_arguments(fields, values)["start_date"] == "2027-01-15"
