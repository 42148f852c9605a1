"""Property-based tests over every chunker (issue 11, "one bad file never stops a build"):
whatever the text and whatever the file name, chunking never raises, every chunk's lines lie
inside the file, and the ids of one build are unique."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexing.chunk import MAX_CHUNK_TOKENS, Sizer
from indexing.chunkers import chunk_text, split_lines
from indexing.process import FileJob, FileProcessor, Skipped, content_hash
from indexing.tokens import TokenCounter

KINDS = ["python", "markdown", "sql", "yaml", "toml", "ini", "json", "typescript", "javascript", "text"]

# Lines that push each chunker into its structural paths (headings, fences, lists, defs, statements,
# blocks), mixed with arbitrary text so the odd cases (unclosed fences, stray brackets, form feeds,
# CRs, NULs, huge lines of one word) come up too.
FRAGMENTS = [
    "# Title",
    "## Section",
    "### Sub *section* `code`",
    "Heading",
    "=====",
    "-----",
    "```",
    "````python",
    "~~~",
    "1. First step",
    "2. Second step",
    "   continued text of a step",
    "- bullet",
    "  - nested bullet",
    "* star bullet",
    "10) paren item",
    "> quote",
    "| a | b |",
    "def f(x):",
    "    return x",
    "class A:",
    "    '''doc'''",
    "@router.get('/x')",
    "async def g():",
    "CREATE TABLE t (id INT);",
    "CREATE FUNCTION f() RETURNS int AS $$ BEGIN",
    "END; $$ LANGUAGE plpgsql;",
    "key: value",
    "  nested: [1, 2",
    "[section]",
    "name = value",
    '{"a": {"b": [',
    "}",
    "export function h() {",
    "export const x = () => {",
    "",
    "   ",
    "\t",
    "\r",
    "\x0c",
    "\u2028",
    "spam " * 400,
    "x" * 3000,
]

line = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=80))
texts = st.one_of(
    st.text(max_size=2000),
    st.lists(line, max_size=60).map("\n".join),
)
# File names as a walk may hand them over: any characters, folders, odd extensions.
names = st.lists(
    st.text(
        st.characters(blacklist_categories=["Cs"], blacklist_characters="/\x00"), min_size=1, max_size=20
    ),
    min_size=1,
    max_size=3,
).map("/".join)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(path: str, kind: str, text: str, sizer: Sizer, counter: TokenCounter) -> list[str]:
    chunks = chunk_text(path, kind, text, sizer)
    _, lines = split_lines(text)
    for c in chunks:
        assert 1 <= c.start_line <= c.end_line <= len(lines), (c.start_line, c.end_line, len(lines))
        assert c.path == path and c.kind == kind
        assert c.text.strip()
        assert counter.count(c.text) <= MAX_CHUNK_TOKENS
        if "chars" not in c.metadata:  # a whole-lines chunk is exactly its lines
            assert c.text == "\n".join(lines[c.start_line - 1 : c.end_line])
    for a, b in itertools.pairwise(chunks):
        assert a.start_line <= b.start_line
    if any(line.strip() for line in lines):
        assert chunks, "text that is not blank is always found somewhere"
    ids = [c.id for c in chunks]
    assert len(ids) == len(set(ids))
    return ids


@SETTINGS
@given(kind=st.sampled_from(KINDS), text=texts, path=names)
def test_any_text_of_any_kind_chunks_without_raising(
    kind: str, text: str, path: str, sizer: Sizer, counter: TokenCounter
) -> None:
    _check(path, kind, text, sizer, counter)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(word=st.text(min_size=1, max_size=12).filter(str.strip), repeat=st.integers(200, 3000))
def test_one_huge_line_of_a_repeated_word_gives_unique_ids(
    word: str, repeat: int, sizer: Sizer, counter: TokenCounter
) -> None:
    """The shape that aborted a build with Chroma's DuplicateIDError."""
    text = "# Wall\n\n" + (word + " ") * repeat + "\n"
    for kind in ("markdown", "text", "python", "yaml"):
        _check("docs/wall.md", kind, text, sizer, counter)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(st.tuples(names, st.sampled_from(KINDS), texts), min_size=1, max_size=6))
def test_ids_are_unique_across_one_build(files: list[tuple[str, str, str]], counter: TokenCounter) -> None:
    """What the builder stores for several files: no file is given up, no id repeats (the chunk
    ids and the dense unit ids key the catalog and the vector store)."""
    processor = FileProcessor(counter)
    chunk_ids: list[str] = []
    unit_ids: list[str] = []
    for path, kind, text in {p: (p, k, t) for p, k, t in files}.values():
        outcome = processor.process_or_skip(FileJob(path, kind, text, len(text), 0, content_hash(text)))
        assert not isinstance(outcome, Skipped), outcome
        chunk_ids += [c.id for c in outcome.chunks]
        unit_ids += [u.id for u in outcome.dense]
    assert len(chunk_ids) == len(set(chunk_ids))
    assert len(unit_ids) == len(set(unit_ids))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(KINDS), text=texts, raw=st.binary(min_size=1, max_size=12))
def test_a_name_with_undecodable_bytes_does_not_raise(
    kind: str, text: str, raw: bytes, sizer: Sizer, counter: TokenCounter
) -> None:
    """os.walk hands undecodable name bytes over as lone surrogates; the walk skips such names,
    and the chunker itself must not raise on one either."""
    path = "docs/" + raw.decode("utf-8", errors="surrogateescape")
    _check(path, kind, text, sizer, counter)


def test_many_statements_on_one_line_are_one_unit(sizer: Sizer, counter: TokenCounter) -> None:
    """Thirty thousand `SELECT 1;` on one line were thirty thousand pieces of that same line, each
    cut again (a stalled build), all under the same ids."""
    text = "-- generated\n" + "SELECT 1; " * 30_000 + "\nCREATE TABLE t (id INT);\n"
    ids = _check("db/q.sql", "sql", text, sizer, counter)
    assert len(ids) < 1000


def test_a_huge_heading_is_clipped_in_symbols_and_metadata(sizer: Sizer, counter: TokenCounter) -> None:
    """A 250 KB heading line went into the header and metadata of each of its hundreds of parts."""
    text = "# " + "word " * 50_000 + "\n\nbody text\n\n## Next\n\nmore\n"
    chunks = chunk_text("docs/h.md", "markdown", text, sizer)
    assert chunks
    assert all(len(c.symbol) <= 310 and len(str(c.metadata.get("heading", ""))) <= 300 for c in chunks)
    assert chunks[-1].symbol.endswith("> Next")
