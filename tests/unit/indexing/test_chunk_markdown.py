"""Markdown chunking: heading sections with their heading path."""

from __future__ import annotations

from typing import Any

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


# --- procedures kept whole (issue 12 §1) ------------------------------------------------------
PROSE = (
    "Organization administrators manage projects, tracks and the people who teach and learn in "
    "them; every change is recorded in the audit log and can be reviewed later by another admin."
)
VERBS = ["Open", "Choose", "Check", "Confirm", "Review", "Select", "Enter", "Press", "Wait for", "Read"]


class Doc:
    """A Markdown document built line by line, remembering the line range of every list item."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.items: list[tuple[int, int]] = []

    def add(self, *lines: str) -> int:
        self.lines.extend(lines)
        return len(self.lines)

    def item(self, *lines: str) -> None:
        start = len(self.lines) + 1
        self.items.append((start, self.add(*lines)))

    def steps(self, n: int, marker: str = "{i}.", indent: str = "", detail: bool = False) -> None:
        for i in range(1, n + 1):
            verb = VERBS[i % len(VERBS)]
            first = (
                f"{indent}{marker.format(i=i)} {verb} the step number {i} of the track publishing procedure."
            )
            if detail:
                self.item(
                    first, f"{indent}   It must be done before step {i + 1}, or the track stays a draft."
                )
            else:
                self.item(first)

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _holder(chunks: list[Any], start: int, end: int) -> list[Any]:
    return [c for c in chunks if c.start_line <= start and end <= c.end_line]


def _items_whole(chunks: list[Any], doc: Doc) -> None:
    for start, end in doc.items:
        assert len(_holder(chunks, start, end)) == 1, (
            start,
            end,
            [(c.start_line, c.end_line) for c in chunks],
        )


def test_a_procedure_after_long_prose_stays_in_one_chunk(sizer: Sizer, counter: TokenCounter) -> None:
    doc = Doc()
    doc.add("# Guide", "", "## Publishing a track", "")
    for _ in range(4):
        doc.add(PROSE, "")
    doc.add("Follow these steps:", "")
    doc.steps(9)
    doc.add("", PROSE)
    chunks = chunk("docs/guide.md", "markdown", doc.text, sizer)
    check_invariants(chunks, doc.text, "docs/guide.md", "markdown", counter)
    first, last = doc.items[0][0], doc.items[-1][1]
    holders = _holder(chunks, first, last)
    assert len(holders) == 1  # every step in one chunk
    assert holders[0].symbol == "Guide > Publishing a track"
    assert line_of(doc.text, "Follow these steps:") >= holders[0].start_line  # with its lead-in


def test_a_procedure_stays_with_its_heading_when_they_fit(sizer: Sizer, counter: TokenCounter) -> None:
    doc = Doc()
    doc.add("# Guide", "", "## Tracks", "")
    for _ in range(5):
        doc.add(PROSE, "")
    heading = doc.add("## How do I publish a track?")
    doc.add("", "To publish a track:", "")
    doc.steps(6, detail=True)
    doc.add("", *[PROSE, ""] * 4)
    chunks = chunk("docs/guide.md", "markdown", doc.text, sizer)
    check_invariants(chunks, doc.text, "docs/guide.md", "markdown", counter)
    holders = _holder(chunks, heading, doc.items[-1][1])
    assert len(holders) == 1
    assert holders[0].text.startswith("## How do I publish a track?\n\nTo publish a track:\n\n1. ")


def test_a_procedure_too_long_for_one_chunk_is_cut_between_its_steps(
    sizer: Sizer, counter: TokenCounter
) -> None:
    doc = Doc()
    heading = doc.add("## Onboarding a new organization")
    doc.add("", "Do all of this, in order:", "")
    doc.steps(30, detail=True)
    doc.add("", PROSE)
    chunks = chunk("docs/onboarding.md", "markdown", doc.text, sizer)
    check_invariants(chunks, doc.text, "docs/onboarding.md", "markdown", counter)
    assert len(chunks) > 2
    _items_whole(chunks, doc)
    item_starts = {s for s, _ in doc.items}
    list_chunks = [c for c in chunks if c.start_line <= doc.items[-1][1]]
    assert list_chunks[0].start_line == heading  # the heading and lead-in open the procedure
    assert all(c.start_line in item_starts for c in list_chunks[1:])
    # no chunk is only the heading: the first one carries steps too
    assert _holder(chunks, *doc.items[0]) == [list_chunks[0]]


def test_nested_bullets_code_and_continuations_stay_inside_their_item(
    sizer: Sizer, counter: TokenCounter
) -> None:
    doc = Doc()
    doc.add("## Deploying", "", "Before you start:", "")
    for i in range(1, 13):
        doc.item(
            f"- Stage {i}: prepare the environment for the stage number {i} of the deployment.",
            "  - check the database migrations of this stage",
            "  - check the configuration values of this stage",
            "",
            f"  The stage {i} needs the previous one; read its log before going on.",
            "",
            "  ```bash",
            f"  make deploy STAGE={i}",
            "",
            "  # a comment line inside the code block",
            "  ```",
        )
    doc.add("", PROSE)
    chunks = chunk("docs/deploy.md", "markdown", doc.text, sizer)
    check_invariants(chunks, doc.text, "docs/deploy.md", "markdown", counter)
    assert len(chunks) > 1
    _items_whole(chunks, doc)


def test_paren_numbers_and_lazy_continuation_lines(sizer: Sizer, counter: TokenCounter) -> None:
    doc = Doc()
    doc.add("## Enrolling students", "")
    for i in range(1, 31):
        doc.item(f"{i}) Add the students of group {i} to the track", "from the CSV file the school sent you.")
    chunks = chunk("docs/enroll.md", "markdown", doc.text, sizer)
    check_invariants(chunks, doc.text, "docs/enroll.md", "markdown", counter)
    assert len(chunks) > 1
    _items_whole(chunks, doc)


def test_several_procedures_in_one_section_each_stay_whole(sizer: Sizer, counter: TokenCounter) -> None:
    doc = Doc()
    doc.add("## Tracks", "", "To create a track:", "")
    doc.steps(7)
    first = (doc.items[0][0], doc.items[-1][1])
    doc.add("", PROSE, "", "To archive a track:", "")
    n = len(doc.items)
    doc.steps(7, marker="{i}.")
    second = (doc.items[n][0], doc.items[-1][1])
    doc.add("", PROSE, "", "* a bullet list", "* of three", "* points")
    chunks = chunk("docs/tracks.md", "markdown", doc.text, sizer)
    check_invariants(chunks, doc.text, "docs/tracks.md", "markdown", counter)
    assert len(chunks) > 1
    assert len(_holder(chunks, *first)) == 1
    assert len(_holder(chunks, *second)) == 1


def test_an_item_too_long_for_a_chunk_is_cut_by_lines_and_its_neighbours_stay_whole(
    sizer: Sizer, counter: TokenCounter
) -> None:
    doc = Doc()
    doc.add("## Huge", "")
    doc.steps(3)
    doc.item("4. A step with a very long explanation:", *[f"   {PROSE}" for _ in range(12)])
    doc.steps(3, marker="{i}0.")
    chunks = chunk("docs/huge.md", "markdown", doc.text, sizer)
    check_invariants(chunks, doc.text, "docs/huge.md", "markdown", counter)
    for start, end in doc.items[:3] + doc.items[4:]:
        assert len(_holder(chunks, start, end)) == 1


def test_a_lead_in_lets_go_of_its_list_only_when_they_cannot_stay_together(
    sizer: Sizer, counter: TokenCounter
) -> None:
    """The list fits a chunk, the list with its (long) lead-in does not: the list stays whole and
    the lead-in goes with what precedes it."""
    doc = Doc()
    doc.add("## Fixes", "", PROSE, "")
    lead_in = doc.add(f"{PROSE} {PROSE} These are the fixes that were applied:")
    doc.steps(8, detail=True)
    doc.add("", PROSE)
    assert counter.count("\n".join(doc.lines[doc.items[0][0] - 1 : doc.items[-1][1]])) <= 254
    assert counter.count("\n".join(doc.lines[lead_in - 1 : doc.items[-1][1]])) > 254
    chunks = chunk("docs/fixes.md", "markdown", doc.text, sizer)
    check_invariants(chunks, doc.text, "docs/fixes.md", "markdown", counter)
    assert len(_holder(chunks, doc.items[0][0], doc.items[-1][1])) == 1
