"""Markdown chunking: heading sections with their heading path."""

from __future__ import annotations

from indexing.chunk import Sizer
from indexing.chunkers import pieces_for
from indexing.tokens import TokenCounter

from .helpers import check_invariants, chunk, line_of, src

GUIDE = src(
    """
    # Platform Guide

    Welcome to the guide for organization administrators.

    ## Tracks

    ### Publishing

    A track is published when every course in it is approved and an admin presses publish.

    ```bash
    # this is a shell comment, not a heading
    curl -X POST /api/v1/tracks/42/publish
    ```

    Setext Enrollment
    -----------------

    Students are enrolled by an instructor or an organization admin.

    Reference
    =========

    The full list of endpoints lives in the API document.
    """
)


def _pieces(text: str) -> list[tuple[str, int, int]]:
    return [(p.symbol, p.start, p.end) for p in pieces_for("markdown", text, text.splitlines())]


def test_sections_carry_their_heading_path() -> None:
    assert _pieces(GUIDE) == [
        ("Platform Guide", 1, line_of(GUIDE, "## Tracks") - 1),
        # "## Tracks" has no text of its own: it folds into its first subsection
        (
            "Platform Guide > Tracks > Publishing",
            line_of(GUIDE, "## Tracks"),
            line_of(GUIDE, "Setext Enrollment") - 1,
        ),
        (
            "Platform Guide > Setext Enrollment",
            line_of(GUIDE, "Setext Enrollment"),
            line_of(GUIDE, "Reference") - 1,
        ),
        ("Reference", line_of(GUIDE, "Reference"), len(GUIDE.splitlines())),
    ]


def test_heading_metadata_and_levels() -> None:
    pieces = pieces_for("markdown", GUIDE, GUIDE.splitlines())
    assert [(p.metadata["heading"], p.metadata["level"]) for p in pieces] == [
        ("Platform Guide", 1),
        ("Publishing", 3),
        ("Setext Enrollment", 2),
        ("Reference", 1),
    ]


def test_headings_inside_code_fences_are_ignored() -> None:
    symbols = [s for s, _, _ in _pieces(GUIDE)]
    assert not any("shell comment" in s for s in symbols)
    tilde = src(
        """
        # Deploy

        ~~~
        # not a heading
        ## nor this
        ~~~

        Done.
        """
    )
    assert _pieces(tilde) == [("Deploy", 1, 8)]


def test_chunks_keep_the_invariants(sizer: Sizer, counter: TokenCounter) -> None:
    chunks = chunk("docs/guide.md", "markdown", GUIDE, sizer)
    check_invariants(chunks, GUIDE, "docs/guide.md", "markdown", counter)
    assert all(c.unit == "section" for c in chunks)
    assert chunks[0].header == "docs/guide.md :: Platform Guide"


def test_inline_markup_is_cleaned_from_heading_paths() -> None:
    text = "# The `TrackService` API\n\nText.\n\n## [Enrolling](enroll.md) **students**\n\nMore.\n"
    assert [s for s, _, _ in _pieces(text)] == [
        "The TrackService API",
        "The TrackService API > Enrolling students",
    ]
    assert [s for s, _, _ in _pieces("## `__init__` and *fast* paths\n\nText.\n")] == [
        "__init__ and fast paths"
    ]


def test_a_document_without_headings_is_one_section(sizer: Sizer) -> None:
    text = "Just a note.\n\nWith two paragraphs.\n"
    assert _pieces(text) == [("", 1, 3)]
    chunks = chunk("NOTES.md", "markdown", text, sizer)
    assert [(c.symbol, c.start_line, c.end_line) for c in chunks] == [("", 1, 3)]


def test_text_before_the_first_heading_is_its_own_section() -> None:
    """A preamble is not a bare heading: it must not be folded into the first section."""
    text = "Intro paragraph before any heading.\n\n# Guide\n\nBody of the guide.\n"
    assert _pieces(text) == [("", 1, 2), ("Guide", 3, 5)]


def test_a_horizontal_rule_after_a_list_item_is_not_a_setext_heading() -> None:
    text = "# Rules\n\n- one rule\n---\n\nText.\n"
    assert [s for s, _, _ in _pieces(text)] == ["Rules"]


def test_unusual_line_separators_do_not_shift_sections(sizer: Sizer) -> None:
    text = "# A\n\nText with a \u2028 separator and a \x0c feed.\n\n# B\n\nMore.\n"
    chunks = chunk("x.md", "markdown", text, sizer)
    assert [(c.symbol, c.start_line, c.end_line) for c in chunks] == [("A, B", 1, 7)]
    assert chunks[0].text == text.rstrip("\n")


def test_a_fence_closes_only_with_the_same_marker_at_least_as_long() -> None:
    text = src(
        """
        # Writing docs

        Show a code block inside a code block:

        ````markdown
        ```python
        # a Python comment, not a heading
        ```
        ````

        ~~~
        ```
        # still code
        ~~~

        ## Real section

        Text.
        """
    )
    assert [s for s, _, _ in _pieces(text)] == ["Writing docs", "Writing docs > Real section"]
