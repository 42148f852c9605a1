"""Search the index directly: the files the retriever picks for a query, with every ranker's score.

Kept reachable beside the chat (whose Context panel shows the same per turn) until the Retrieval
lab replaces it.
"""

from __future__ import annotations

import streamlit as st

from app.retrieval.index_reader import IndexReader
from components.search_results import render_result
from components.session import load_services
from indexing.catalog import Catalog

svc = load_services()
settings = svc.settings
index_dir = settings.resolved_index_dir
st.title("Search the Course Creator codebase")

if not IndexReader.exists(index_dir):
    st.info(
        f"There is no index at `{index_dir}` yet. Build the default one with `make index`, "
        "or any codebase with `python -m indexing build PATH`."
    )
    st.stop()

catalog = Catalog(index_dir, readonly=True)
try:
    state = catalog.all_state()
    counts = catalog.counts_by_kind()
finally:
    catalog.close()
files = sum(f for f, _ in counts.values())
chunks = sum(c for _, c in counts.values())
st.caption(
    f"Index of `{state.get('source')}` · {files} files · {chunks} chunks · built {state.get('built_at')} · "
    f"embedding model {state.get('model_id')}"
)

with st.form("search"):
    query = st.text_input("Ask about an endpoint, a rule, a permission, a setting ...", key="query")
    k = st.slider("Files to show", 1, 20, settings.retrieval_top_k)
    submitted = st.form_submit_button("Search", type="primary")

if query.strip():
    result = svc.retrieval.search(query, k)
    if result is None or not result.chunks:
        st.warning("Nothing matched. Try other words (names of endpoints, fields or rules work well).")
    else:
        st.caption(f"{len(result.chunks)} results in {result.latency_ms:.0f} ms")
        for i, chunk in enumerate(result.chunks, 1):
            render_result(i, chunk)
