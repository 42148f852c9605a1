"""Size rules: every chunk fits the model's window, big units are cut into numbered parts, small
ones are merged without being split, and per-line token counts are exact."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from indexing.chunk import MAX_CHUNK_TOKENS, LineTokens, Piece, Sizer
from indexing.chunkers import split_lines
from indexing.tokens import TokenCounter

from .helpers import check_invariants, chunk


def _huge_function(n_lines: int) -> str:
    body = [
        f"    total += compute_fee(student_{i}, track_{i % 17}, discount=0.{i % 10})  # row {i}"
        for i in range(n_lines - 3)
    ]
    return "def reconcile_invoices(students):\n    total = 0\n" + "\n".join(body) + "\n    return total\n"


def test_a_3000_line_function_is_cut_into_numbered_parts_that_fit(
    sizer: Sizer, counter: TokenCounter
) -> None:
    text = _huge_function(3000)
    lines = text.splitlines()
    assert len(lines) == 3000
    chunks = chunk("billing/reconcile.py", "python", text, sizer)
    check_invariants(chunks, text, "billing/reconcile.py", "python", counter)
    assert len(chunks) > 10
    assert {c.symbol for c in chunks} == {"reconcile_invoices"}
    assert {c.unit for c in chunks} == {"function"}
    assert [c.metadata["part"] for c in chunks] == [f"{i}/{len(chunks)}" for i in range(1, len(chunks) + 1)]
    # the parts tile the function: first line to last, nothing lost or repeated
    assert chunks[0].start_line == 1 and chunks[-1].end_line == 3000
    for a, b in itertools.pairwise(chunks):
        assert b.start_line == a.end_line + 1
    # and they are reasonably full, not shredded
    assert all(counter.count(c.text) > MAX_CHUNK_TOKENS * 2 // 3 for c in chunks[:-1])


def test_a_single_20000_character_line_is_cut_by_characters(sizer: Sizer, counter: TokenCounter) -> None:
    words = " ".join(f"tok{i:05d}xq" for i in range(2000))
    long_line = f'FIXTURE = "{words}"'
    assert len(long_line) > 20_000
    text = f"import json\n\n{long_line}\n\n\ndef load():\n    return json.loads(FIXTURE)\n"
    chunks = chunk("fixtures/big.py", "python", text, sizer)
    for c in chunks:
        assert counter.count(c.text) <= MAX_CHUNK_TOKENS
    on_line = [c for c in chunks if c.start_line <= 3 <= c.end_line]
    assert len(on_line) > 10
    # the pieces of the line are consecutive cuts of it: nothing lost, nothing added
    assert all(c.start_line == c.end_line == 3 for c in on_line)
    assert "".join(c.text for c in on_line) == long_line
    assert chunks[-1].symbol == "load"
    assert chunks[-1].text == "def load():\n    return json.loads(FIXTURE)"


def test_a_long_line_inside_a_function_gets_its_own_parts(sizer: Sizer, counter: TokenCounter) -> None:
    blob = "x" * 3000 + "".join(f" y{i}" for i in range(3000))
    text = f"def f():\n    a = 1\n    s = '{blob}'\n    return a\n"
    chunks = chunk("m.py", "python", text, sizer)
    assert all(counter.count(c.text) <= MAX_CHUNK_TOKENS for c in chunks)
    assert chunks[0].text == "def f():\n    a = 1"
    assert chunks[-1].text == "    return a"
    assert "".join(c.text for c in chunks[1:-1]) == f"    s = '{blob}'"
    assert {c.metadata["part"].split("/")[1] for c in chunks} == {str(len(chunks))}


def test_many_tiny_functions_merge_without_splitting_any(sizer: Sizer, counter: TokenCounter) -> None:
    funcs = [f"def rule_{i}(member):\n    return member.role == 'role_{i}'\n" for i in range(200)]
    text = "\n".join(funcs)
    chunks = chunk("rbac/rules.py", "python", text, sizer)
    check_invariants(chunks, text, "rbac/rules.py", "python", counter)
    assert 5 < len(chunks) < 60
    assert {c.unit for c in chunks} == {"function"}
    assert all("part" not in c.metadata for c in chunks)
    # each chunk starts at a def and ends at its return: no function is cut in two
    for c in chunks:
        first, last = c.text.splitlines()[0], c.text.splitlines()[-1]
        assert first.startswith("def rule_") and last.startswith("    return member.role")
    named = [s for c in chunks for s in c.symbol.split(", ")]
    assert named == [f"rule_{i}" for i in range(200)]


def test_merge_stops_before_the_window_is_exceeded() -> None:
    # a fake tokenizer: one token per character, window of 30
    sizer = Sizer(len, max_tokens=30)
    lines = ["aaaaaaaaa", "bbbbbbbbb", "ccccccccc", "ddddddddd"]
    pieces = [Piece("function", f"f{i}", i + 1, i + 1, merge_key="functions") for i in range(4)]
    chunks = sizer.chunks("x.py", "python", lines, pieces)
    assert [(c.symbol, c.start_line, c.end_line) for c in chunks] == [("f0, f1, f2", 1, 3), ("f3", 4, 4)]
    # different merge keys never merge; None never merges
    pieces = [Piece("function", "a", 1, 1, merge_key="x"), Piece("function", "b", 2, 2, merge_key="y")]
    pieces += [Piece("route", "c", 3, 3, merge_key=None), Piece("route", "d", 4, 4, merge_key=None)]
    assert [c.symbol for c in sizer.chunks("x.py", "python", lines, pieces)] == ["a", "b", "c", "d"]


def test_merged_routes_keep_every_route() -> None:
    sizer = Sizer(len, max_tokens=100)
    lines = ["a", "b"]
    pieces = [
        Piece("route", "a", 1, 1, {"route": "GET /a"}, merge_key="k"),
        Piece("route", "b", 2, 2, {"route": "POST /b"}, merge_key="k"),
    ]
    (merged,) = sizer.chunks("x.py", "python", lines, pieces)
    assert merged.metadata["route"] == "GET /a"
    assert merged.metadata["routes"] == ["GET /a", "POST /b"]


def test_blank_pieces_give_no_chunk() -> None:
    sizer = Sizer(len, max_tokens=100)
    assert sizer.chunks("x", "text", ["", "  ", ""], [Piece("lines", "", 1, 3)]) == []


def test_line_tokens_prefix_sums() -> None:
    lt = LineTokens([3, 0, 5, 2])
    assert lt.range(1, 4) == 10
    assert lt.range(2, 3) == 5
    assert lt.line(3) == 5
    assert lt.range(4, 4) == 2


_LINE = st.text(st.characters(blacklist_characters="\n", blacklist_categories=["Cs"]), max_size=80)


@settings(max_examples=400, deadline=None)
@given(st.lists(_LINE, min_size=1, max_size=15))
def test_per_line_counts_equal_the_tokenizer_on_the_joined_text(
    counter: TokenCounter, lines: list[str]
) -> None:
    per_line = counter.count_lines(lines)
    assert per_line == [counter.count(line) for line in lines]
    tokens = LineTokens(per_line)
    assert tokens.range(1, len(lines)) == counter.count("\n".join(lines))
    mid = (len(lines) + 1) // 2
    assert tokens.range(mid, len(lines)) == counter.count("\n".join(lines[mid - 1 :]))


_CODE_LINE = st.sampled_from(
    [
        "def f(x):",
        "    return x",
        "",
        "class A:",
        "    '''doc'''",
        "# comment",
        "x = 1",
        "    pass",
        "SELECT 'a;b';",
        "$$ x; $$",
        "# Heading",
        "key: value",
        "export const a = 1;",
        "line\r",
        "page\x0cbreak",
        "sep\u2028arator",
    ]
) | st.text(st.characters(codec="utf-8", blacklist_characters="\n"), max_size=300)


@settings(max_examples=150, deadline=None)
@given(st.lists(_CODE_LINE, min_size=1, max_size=60))
def test_any_text_of_any_kind_chunks_within_the_window(
    sizer: Sizer, counter: TokenCounter, lines: list[str]
) -> None:
    text = "\n".join(lines)
    _, real_lines = split_lines(text)
    for kind in ("python", "markdown", "sql", "yaml", "json", "toml", "ini", "typescript", "text"):
        for c in chunk(f"f.{kind}", kind, text, sizer):
            assert counter.count(c.text) <= MAX_CHUNK_TOKENS
            assert 1 <= c.start_line <= c.end_line <= len(real_lines)
            cited = "\n".join(real_lines[c.start_line - 1 : c.end_line])
            if c.text != cited:  # a part of one line too long for the window
                assert c.start_line == c.end_line and c.text in cited
