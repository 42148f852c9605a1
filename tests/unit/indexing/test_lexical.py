"""BM25 terms: identifiers split, stemmed, stop words dropped, abbreviations aliased."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexing.lexical import STOP_WORDS, tokenize


def test_snake_camel_pascal_and_prose_meet_on_the_same_terms() -> None:
    assert tokenize("enroll_students") == ["enrol", "student", "enrol_student"]
    assert tokenize("enrollStudents") == ["enrol", "student", "enrol_student"]
    assert tokenize("EnrollStudents") == ["enrol", "student", "enrol_student"]
    assert tokenize("enrolling students") == ["enrol", "student"]
    assert tokenize("/api/v1/tracks/{id}/enroll") == ["api", "v1", "track", "id", "enrol"]


def test_acronyms_and_case_changes() -> None:
    assert tokenize("HTTPServerError") == ["http", "server", "error", "http_server_error"]
    assert tokenize("parseJSONBody") == ["pars", "json", "bodi", "pars_json_bodi"]


def test_digits_split_identifiers_and_letter_digit_names_match_whatever_the_case() -> None:
    camel, snake, upper = tokenize("oauth2Client"), tokenize("oauth2_client"), tokenize("OAUTH2_CLIENT")
    assert "oauth" in camel and "client" in camel
    assert set(camel) == set(snake) == set(upper)
    # a name like EC2 or S3 is found from a question in any case
    assert set(tokenize("EC2")) == set(tokenize("ec2")) and "ec2" in tokenize("ec2")
    assert set(tokenize("S3Bucket")) >= set(tokenize("s3 bucket"))
    assert "s3" in tokenize("S3Bucket")


def test_stemming_makes_word_forms_meet() -> None:
    assert tokenize("publishing published publishes") == ["publish", "publish", "publish"]
    assert tokenize("Enrollment enrollments") == ["enrol", "enrol"]


def test_stop_words_and_single_letters_are_dropped() -> None:
    assert tokenize("what is the limit of a track") == ["limit", "track"]
    assert tokenize("def f(self): return None") == []
    assert {"the", "self", "return", "async"} <= STOP_WORDS


@pytest.mark.parametrize(
    ("abbreviated", "spelled"),
    [
        ("org", "organization"),
        ("orgs", "organizations"),
        ("admin", "administrator"),
        ("max", "maximum"),
        ("config", "configuration"),
        ("db", "database"),
        ("perms", "permissions"),
        ("pwd", "password"),
        ("enroll", "enrol"),
    ],
)
def test_abbreviations_meet_the_words_a_question_uses(abbreviated: str, spelled: str) -> None:
    assert tokenize(abbreviated) == tokenize(spelled)


def test_compound_terms_keep_the_whole_identifier() -> None:
    terms = tokenize("max_projects_per_org = 25")
    assert terms[:3] == ["maximum", "project", "organiz"]
    assert terms[-1] == "maximum_project_per_organiz"
    assert "25" in terms
    question = tokenize("the maximum number of projects per organization")
    assert set(terms[:3]) <= set(question)
    # a single word is no compound; a two-part name is
    assert tokenize("tracks") == ["track"]
    assert tokenize("TrackService")[-1] == "track_servic"


def test_non_ascii_text_does_not_break_the_tokenizer() -> None:
    assert tokenize("café naïve 東京 emoji 🎓 track") == ["caf", "na", "emoji", "track"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_terms_are_lower_case_words_without_stop_words(text: str) -> None:
    for term in tokenize(text):
        assert term == term.lower()
        assert term not in {"the", "and", "of"}
        assert " " not in term and term
