"""TS/JS chunking by top-level declaration (JSDoc attached, API paths recorded) and the fallback."""

from __future__ import annotations

from indexing.chunk import MAX_CHUNK_TOKENS, Sizer
from indexing.chunkers import pieces_for
from indexing.tokens import TokenCounter

from .helpers import check_invariants, chunk, line_of, src

TRACK_SERVICE_TS = src(
    """
    import axios from 'axios';
    import { Track, EnrollmentRequest } from './types';

    const BASE = '/api/v1/tracks';

    /**
     * Talks to the tracks API of the platform.
     * Every call sends the user's own token.
     */
    export const trackService = {
      list: (projectId: string) => axios.get(`${BASE}?project=${projectId}`),
      enroll: (id: string, body: EnrollmentRequest) => axios.post(`/api/v1/tracks/${id}/enroll`, body),
      archive: (id: string) => axios.put(`/api/v1/tracks/${id}/archive`),
    };

    // Creates a track and returns it
    export async function createTrack(body: Partial<Track>): Promise<Track> {
      const res = await fetch('/api/v1/tracks', { method: 'POST', body: JSON.stringify(body) });
      return res.json();
    }

    export interface TrackForm {
      name: string;
      level: 'beginner' | 'intermediate' | 'advanced';
    }

    export enum TrackStatus { Draft = 'draft', Published = 'published' }

    export type TrackId = string;

    class TrackCache {
      private items = new Map<string, Track>();
    }

    export default trackService;
    """
)


def _pieces(kind: str, text: str) -> list[tuple[str, str, int, int]]:
    return [(p.unit, p.symbol, p.start, p.end) for p in pieces_for(kind, text, text.splitlines())]


def test_top_level_declarations_with_their_doc_comments() -> None:
    t = TRACK_SERVICE_TS
    assert _pieces("typescript", t) == [
        ("imports", "", 1, 1),
        ("imports", "", 2, 3),
        ("declaration", "BASE", 4, 5),
        ("declaration", "trackService", line_of(t, "/**"), line_of(t, "// Creates a track") - 1),
        ("declaration", "createTrack", line_of(t, "// Creates a track"), line_of(t, "export interface") - 1),
        ("interface", "TrackForm", line_of(t, "export interface"), line_of(t, "export enum") - 1),
        ("enum", "TrackStatus", line_of(t, "export enum"), line_of(t, "export type") - 1),
        ("type", "TrackId", line_of(t, "export type"), line_of(t, "class TrackCache") - 1),
        ("class", "TrackCache", line_of(t, "class TrackCache"), line_of(t, "export default") - 1),
        ("declaration", "trackService", line_of(t, "export default"), len(t.splitlines())),
    ]


def test_api_paths_called_by_the_front_end_are_recorded() -> None:
    pieces = pieces_for("typescript", TRACK_SERVICE_TS, TRACK_SERVICE_TS.splitlines())
    api = {p.symbol: p.metadata.get("api_paths") for p in pieces[:-1] if p.unit != "imports"}
    assert api["trackService"] == ["/api/v1/tracks/${id}/enroll", "/api/v1/tracks/${id}/archive"]
    assert api["createTrack"] == ["/api/v1/tracks"]
    assert api["BASE"] == ["/api/v1/tracks"]
    assert api["TrackForm"] is None


def test_chunks_of_a_ts_file(sizer: Sizer, counter: TokenCounter) -> None:
    chunks = chunk("frontend/src/services/trackService.ts", "typescript", TRACK_SERVICE_TS, sizer)
    check_invariants(chunks, TRACK_SERVICE_TS, "frontend/src/services/trackService.ts", "typescript", counter)
    joined = "\n".join(c.text for c in chunks)
    assert "Talks to the tracks API" in joined
    doc_chunk = next(c for c in chunks if "Talks to the tracks API" in c.text)
    assert "trackService" in doc_chunk.symbol.split(", ")
    assert "export const trackService" in doc_chunk.text  # the JSDoc travels with its declaration


def test_react_component_in_jsx() -> None:
    text = src(
        """
        import React, { useState } from 'react';

        /** The modal an admin uses to create a track. */
        export default function CreateTrackModal({ onClose }) {
          const [name, setName] = useState('');
          return <form onSubmit={() => fetch('/api/v1/tracks', { method: 'POST' })} />;
        }

        export const Footer = () => <footer />;
        """
    )
    pieces = pieces_for("javascript", text, text.splitlines())
    assert [(p.unit, p.symbol, p.start) for p in pieces] == [
        ("imports", "", 1),
        ("declaration", "CreateTrackModal", 3),
        ("declaration", "Footer", 9),
    ]
    assert pieces[1].metadata["api_paths"] == ["/api/v1/tracks"]


def test_decorators_stay_with_their_class() -> None:
    text = src(
        """
        import { Injectable } from '@angular/core';

        /** Calls the tracks API. */
        @Injectable({ providedIn: 'root' })
        export class TrackApi {
          enroll(id: string) { return this.http.post(`/api/v1/tracks/${id}/enroll`, {}); }
        }
        """
    )
    assert _pieces("typescript", text) == [("imports", "", 1, 2), ("class", "TrackApi", 3, 7)]


def test_a_script_without_declarations_is_one_block() -> None:
    text = "window.onload = () => {\n  start();\n};\n"
    assert _pieces("javascript", text) == [("block", "", 1, 3)]


def test_fallback_for_other_kinds_is_size_bounded_line_windows(sizer: Sizer, counter: TokenCounter) -> None:
    text = "\n".join(
        f"RUN step {i}: install the package number {i} and verify its checksum carefully" for i in range(120)
    )
    chunks = chunk("Dockerfile", "text", text, sizer)
    check_invariants(chunks, text, "Dockerfile", "text", counter)
    assert len(chunks) > 1
    assert {c.unit for c in chunks} == {"lines"}
    # windows tile the file: no line lost, none repeated
    covered = [n for c in chunks for n in range(c.start_line, c.end_line + 1)]
    assert covered == list(range(1, 121))
    assert all(counter.count(c.text) > MAX_CHUNK_TOKENS // 2 for c in chunks[:-1])  # windows are filled


def test_html_and_shell_use_the_fallback(sizer: Sizer) -> None:
    html = "<html>\n<body>\n<h1>Tracks</h1>\n</body>\n</html>\n"
    assert [(c.unit, c.start_line, c.end_line) for c in chunk("index.html", "html", html, sizer)] == [
        ("lines", 1, 5)
    ]
    sh = "#!/bin/sh\nset -e\nmake test\n"
    assert [(c.unit, c.start_line, c.end_line) for c in chunk("ci.sh", "shell", sh, sizer)] == [
        ("lines", 1, 3)
    ]


def test_empty_or_blank_text_gives_no_chunks(sizer: Sizer) -> None:
    assert chunk("a.py", "python", "", sizer) == []
    assert chunk("a.md", "markdown", "\n\n   \n", sizer) == []
