"""How one retrieved chunk is shown: where it is, why it was picked, and its text."""

from __future__ import annotations

import streamlit as st

from app.retrieval.types import RetrievedChunk

LANGUAGE = {
    "python": "python", "markdown": "markdown", "sql": "sql", "yaml": "yaml", "json": "json",
    "toml": "toml", "ini": "ini", "typescript": "typescript", "javascript": "javascript",
    "html": "html", "shell": "bash",
}  # fmt: skip
SIGNALS = (
    ("bm25", "BM25"),
    ("dense", "Dense (chunk card)"),
    ("file_card", "Dense (file card)"),
    ("rrf", "Fused (RRF)"),
)


def render_result(rank: int, chunk: RetrievedChunk) -> None:
    title = f"**{rank}. `{chunk.citation}`**"
    if chunk.symbol:
        title += f" — {chunk.symbol}"
    route = chunk.metadata.get("route")
    if route:
        title += f"  `{route}`"
    with st.container(border=True):
        st.markdown(title)
        cols = st.columns(len(SIGNALS))
        for col, (key, label) in zip(cols, SIGNALS, strict=True):
            value = chunk.scores.get(key)
            rank_of = chunk.scores.get(
                f"{'dense_chunks' if key == 'dense' else 'dense_files' if key == 'file_card' else key}_rank"
            )
            shown = "—" if value is None else f"{value:.3f}"
            col.metric(
                label,
                shown,
                help=f"rank {int(rank_of)} in this ranker" if rank_of else "no signal from this ranker",
            )
        with st.expander(f"{chunk.kind} · {chunk.unit} · lines {chunk.start_line}-{chunk.end_line}"):
            st.code(chunk.text, language=LANGUAGE.get(chunk.kind), line_numbers=True)
