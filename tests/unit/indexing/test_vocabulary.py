"""The bridge from a question's words to code idioms (indexing.search.vocabulary)."""

from __future__ import annotations

from indexing.lexical import tokenize
from indexing.search.vocabulary import BRIDGE, KIND_HINTS, expand, hinted_kinds, is_hinted


def test_admin_words_bring_the_code_idioms() -> None:
    def idioms(words: str) -> set[str]:
        return set(tokenize(words))

    assert idioms("role require") <= set(expand(tokenize("who is allowed to remove a member")))
    assert idioms("config yaml") <= set(expand(tokenize("what is the default timeout")))
    assert idioms("frontend tsx") <= set(expand(tokenize("which page shows the button")))
    assert idioms("table constraint") <= set(expand(tokenize("what does the database refuse")))
    assert idioms("max") <= set(expand(tokenize("is there a limit on members")))


def test_no_duplicates_and_nothing_the_question_already_says() -> None:
    terms = tokenize("permission role allowed permissions")
    added = expand(terms)
    assert len(added) == len(set(added))
    assert not set(added) & set(terms)


def test_questions_without_triggers_are_not_expanded() -> None:
    assert expand(tokenize("grafana prometheus docker compose")) == []
    assert expand([]) == []


def test_every_trigger_and_idiom_survives_tokenizing() -> None:
    # a word the tokenizer drops (a stop word) would silently never trigger
    for triggers, idioms in BRIDGE.items():
        for word in triggers.split() + idioms.split():
            assert tokenize(word), word
    for triggers in KIND_HINTS:
        for word in triggers.split():
            assert tokenize(word), word


def test_kind_hints() -> None:
    assert hinted_kinds(tokenize("what is the default session timeout")) >= {"yaml", "json"}
    assert hinted_kinds(tokenize("which columns does the enrollments table have")) == {"sql"}
    assert hinted_kinds(tokenize("is there a limit, and which database column holds it")) >= {"yaml", "sql"}
    assert hinted_kinds(tokenize("how do I enroll a student in a track")) == frozenset()


def test_configuration_includes_code_files_named_as_configuration() -> None:
    config = hinted_kinds(tokenize("what is the default port"))
    assert is_hinted("conf/app.yaml", "yaml", config)
    assert is_hinted("frontend/vite.config.ts", "typescript", config)
    assert is_hinted("app/settings.py", "python", config)
    assert is_hinted("deploy/nginx-conf.json", "json", config)
    assert not is_hinted("app/configurator_service.py", "python", config)
    assert not is_hinted("app/services/users.py", "python", config)
    schema = hinted_kinds(tokenize("which table column"))
    assert is_hinted("db/001_init.sql", "sql", schema)
    assert not is_hinted("app/settings.py", "python", schema)  # no configuration asked for


def test_an_ambiguous_word_bridges_to_nothing() -> None:
    """ "sign" is a login in "sign in" and a registration in "sign up": bridging it either way sent
    "which code signs learners up" to a file of login and session limits."""
    added = set(expand(tokenize("which browser code calls the server to sign learners up")))
    assert not added & set(tokenize("login session token"))
    assert set(tokenize("session token")) <= set(expand(tokenize("how long does a login last")))
