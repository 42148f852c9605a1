"""SQL chunking: one piece per statement, never split inside strings, comments or $$ bodies."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from indexing.chunk import Sizer
from indexing.chunkers import pieces_for
from indexing.chunkers.sql import statement_ranges
from indexing.tokens import TokenCounter

from .helpers import check_invariants, chunk, line_of, src

MIGRATION = src(
    """
    -- 0004: meeting rooms
    -- The kinds of room an organization can book.
    CREATE TYPE room_kind AS ENUM ('lab', 'lecture; hall', 'office');

    /* Rooms belong to one organization; a name is unique inside it; even here; */
    CREATE TABLE IF NOT EXISTS "meeting_rooms" (
        id SERIAL PRIMARY KEY,
        organization_id UUID NOT NULL REFERENCES organizations(id),
        name TEXT NOT NULL DEFAULT 'it''s; fine', -- a quote; and a semicolon
        kind room_kind NOT NULL,
        capacity INTEGER CHECK (capacity > 0)
    );

    CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger AS $$
    BEGIN
      NEW.updated_at = now();
      RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;

    CREATE INDEX idx_rooms_org ON meeting_rooms (organization_id);
    INSERT INTO meeting_rooms (name, kind) VALUES ('Ada', 'lab');
    """
)


def test_statements_with_symbols_and_leading_comments() -> None:
    pieces = pieces_for("sql", MIGRATION, MIGRATION.splitlines())
    assert [(p.unit, p.symbol, p.start, p.end) for p in pieces] == [
        ("create type", "room_kind", 1, 3),
        ("create table", "meeting_rooms", 5, line_of(MIGRATION, "capacity INTEGER") + 1),
        (
            "create function",
            "touch_updated_at",
            line_of(MIGRATION, "CREATE OR REPLACE FUNCTION"),
            line_of(MIGRATION, "$$ LANGUAGE plpgsql;"),
        ),
        (
            "statement",
            "idx_rooms_org",
            line_of(MIGRATION, "CREATE INDEX"),
            line_of(MIGRATION, "CREATE INDEX"),
        ),
        ("statement", "meeting_rooms", line_of(MIGRATION, "INSERT INTO"), line_of(MIGRATION, "INSERT INTO")),
    ]
    assert pieces[1].metadata == {"sql": "create table"}


def test_chunks_keep_invariants_and_small_statements_merge(sizer: Sizer, counter: TokenCounter) -> None:
    chunks = chunk("migrations/0004_rooms.sql", "sql", MIGRATION, sizer)
    check_invariants(chunks, MIGRATION, "migrations/0004_rooms.sql", "sql", counter)
    assert [(c.unit, c.symbol) for c in chunks] == [
        ("create type", "room_kind"),
        ("create table", "meeting_rooms"),
        ("create function", "touch_updated_at"),
        ("statement", "idx_rooms_org, meeting_rooms"),
    ]
    assert chunks[0].text.startswith("-- 0004: meeting rooms\n-- The kinds of room")


def test_statement_ranges_respect_strings_comments_and_dollar_quotes() -> None:
    text = "SELECT 'a;b';\n-- c;d\nSELECT \"x;y\" /* e;f */;\nDO $body$ BEGIN x; y; END $body$;\nSELECT 1"
    bodies = [text[a:b].strip() for a, b in statement_ranges(text)]
    assert bodies == [
        "SELECT 'a;b';",
        '-- c;d\nSELECT "x;y" /* e;f */;',
        "DO $body$ BEGIN x; y; END $body$;",
        "SELECT 1",
    ]


def test_an_unterminated_string_or_comment_runs_to_the_end() -> None:
    text = "SELECT 'open; string\n; more"
    assert [text[a:b] for a, b in statement_ranges(text)] == [text]
    text = "SELECT 1; /* never closed; ;"
    assert [text[a:b] for a, b in statement_ranges(text)] == ["SELECT 1;", " /* never closed; ;"]


def test_a_file_of_comments_only_is_one_piece() -> None:
    text = "-- nothing here yet\n-- TODO\n"
    assert [(p.unit, p.start, p.end) for p in pieces_for("sql", text, text.splitlines())] == [
        ("statement", 1, 2)
    ]


_SQL_BITS = st.sampled_from(
    [
        "SELECT 1",
        ";",
        "'a;b'",
        "'it''s'",
        '"q;"',
        "-- c;\n",
        "/* x; */",
        "$$ y; $$",
        "$t$ z; $t$",
        "\n",
        " ",
        "INSERT INTO t VALUES (1)",
        "'",
        "$",
        "-",
        "/",
        "*",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SQL_BITS, max_size=30).map("".join))
def test_statement_ranges_tile_the_text_without_losing_any(text: str) -> None:
    ranges = statement_ranges(text)
    # consecutive, non-overlapping, in order; everything that is not trailing whitespace is covered
    pos = 0
    for a, b in ranges:
        assert a == pos and b > a
        pos = b
    assert text[pos:].strip() == ""
    assert "".join(text[a:b] for a, b in ranges) + text[pos:] == text
    # every range but the last ends with the ';' that closed it
    for _, b in ranges[:-1]:
        assert text[b - 1] == ";"


def test_a_migration_with_windows_line_endings(sizer: Sizer, counter: TokenCounter) -> None:
    crlf = MIGRATION.replace("\n", "\r\n")
    chunks = chunk("migrations/0004_rooms.sql", "sql", crlf, sizer)
    expected = chunk("migrations/0004_rooms.sql", "sql", MIGRATION, sizer)
    assert [(c.unit, c.symbol, c.start_line, c.end_line, c.text) for c in chunks] == [
        (c.unit, c.symbol, c.start_line, c.end_line, c.text) for c in expected
    ]
    check_invariants(chunks, crlf, "migrations/0004_rooms.sql", "sql", counter)
