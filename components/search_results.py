"""How one retrieved chunk is shown: where it is, why it was picked (every ranker's score and rank),
and its text numbered with the file's own line numbers. Used by the search page and the chat's
Context panel alike."""

from __future__ import annotations

from typing import Any

import streamlit as st

from components.panels import LANGUAGE, chunk_title, numbered, ranker_evidence


def evidence_line(chunk: dict[str, Any], rank: int) -> str:
    parts = []
    for row in ranker_evidence(chunk, rank):
        score = (
            "—"
            if row["score"] is None
            else f"{row['score']:.3f}"
            if row["score"] < 1
            else f"{row['score']:.2f}"
        )
        where = f" (#{row['rank']})" if row["rank"] else ""
        parts.append(f"{row['ranker']} **{score}**{where}")
    return " · ".join(parts)


def render_chunk(
    chunk: dict[str, Any], rank: int, *, compact: bool = False, expanded: bool = False, key: str = ""
) -> None:
    with st.container(border=True, key=key or None):
        st.markdown(f"**{rank}.** {chunk_title(chunk)}")
        if compact:
            st.caption(evidence_line(chunk, rank))
        else:
            rows = ranker_evidence(chunk, rank)
            for col, row in zip(st.columns(len(rows)), rows, strict=True):
                shown = "—" if row["score"] is None else f"{row['score']:.3f}"
                col.metric(
                    row["ranker"],
                    shown,
                    help=f"rank {row['rank']} in this ranker"
                    if row["rank"]
                    else "no signal from this ranker",
                )
        label = f"{chunk.get('kind')} · {chunk.get('unit')} · lines {chunk.get('start_line')}-{chunk.get('end_line')}"
        with st.expander(label, expanded=expanded):
            st.code(
                numbered(str(chunk.get("text", "")), int(chunk.get("start_line") or 1)),
                language=LANGUAGE.get(str(chunk.get("kind"))),
            )


def render_result(rank: int, chunk: Any) -> None:
    """A RetrievedChunk from the retriever (the search page)."""
    render_chunk(chunk.as_dict(), rank)
