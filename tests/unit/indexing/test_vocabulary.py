"""The bridge from a question's words to code idioms (indexing.search.vocabulary)."""

from __future__ import annotations

from indexing.lexical import tokenize
from indexing.search.vocabulary import BRIDGE, expand


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
