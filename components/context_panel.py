"""The Context panel: what the assistant read for a turn, chunk by chunk, with every ranker's say."""

from __future__ import annotations

import streamlit as st

from app.conversation.view import TurnView
from components.panels import format_latency
from components.search_results import render_chunk


def _label(turn: TurnView) -> str:
    text = " ".join(turn.label.split())
    return f"#{turn.number} · {text[:50]}{'…' if len(text) > 50 else ''}"


def render_context(turns: list[TurnView]) -> None:
    with_context = [t for t in turns if t.query is not None]
    if not with_context:
        st.info(
            "Nothing retrieved yet. Ask a question about the platform (for example *What roles can an "
            "instructor have on a course?*) and the passages the assistant read appear here, with why "
            "each was picked."
        )
        return
    by_id = {t.id: t for t in with_context}
    selected = st.session_state.get("selected_turn")
    if selected not in by_id:
        selected = with_context[-1].id
    ids = [t.id for t in with_context]
    choice = st.selectbox(
        "Turn",
        ids,
        index=ids.index(selected),
        format_func=lambda i: _label(by_id[i]),
        key=f"context-turn-{selected}",
    )
    if choice != selected:
        st.session_state.selected_turn = choice
        st.session_state.selected_cite = None
    turn = by_id[choice]
    cite = st.session_state.get("selected_cite")
    latency = f" in {format_latency(turn.retrieval_ms)}" if turn.retrieval_ms is not None else ""
    st.caption(f"Searched for: *{turn.query}*{latency}. {len(turn.chunks)} passages, best file first.")
    for warning in turn.retrieval_warnings:
        st.warning(warning, icon=":material/warning:")
    if not turn.chunks:
        st.warning("Nothing in the index matched this question. Try the names of endpoints, fields or rules.")
        return
    for rank, chunk in enumerate(turn.chunks, 1):
        render_chunk(
            chunk,
            rank,
            compact=True,
            expanded=bool(cite) and chunk.get("cite") == cite,
            key=f"chunk-{turn.id}-{rank}",
        )
