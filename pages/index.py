"""The search index: what it holds, what it skipped and why, when it was built; update or rebuild it
in the background with a progress bar while the page (and the assistant) keep working."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from app.jobs import Job, JobBusyError
from app.permissions.policy import UserContext
from app.retrieval.maintenance import build_index
from components.report_controls import require_admin
from components.session import load_services

svc = load_services()
user: UserContext = st.session_state.user
require_admin(user)
st.title("Index")
st.caption("The assistant's search index of the platform's code and docs.")

stats = svc.retrieval.stats()
source = Path(stats.source) if stats and stats.source else svc.settings.index_source


def start(full: bool) -> None:
    label = "Rebuilding the index" if full else "Updating the index"
    try:
        svc.jobs.start(
            "index", label, lambda report: build_index(svc.settings, source, full=full, report=report)
        )
    except JobBusyError as exc:
        st.session_state.index_error = str(exc)


@st.fragment(run_every=0.5)
def progress() -> None:
    job: Job | None = svc.jobs.latest("index")
    if job is None:
        return
    if job.running:
        st.progress(
            job.fraction, text=f"{job.label}: {job.phase or 'starting'} ({job.done}/{job.total or '?'})"
        )
        st.caption("The old index keeps answering until the new one is committed.")
    elif st.session_state.get("index_job_seen") != job.id:
        st.session_state.index_job_seen = job.id
        st.rerun(scope="app")  # show the new figures
    elif job.status == "failed":
        st.error(f"{job.label} failed: {job.error}")
    else:
        result = job.result or {}
        st.success(
            f"{job.label} finished in {job.seconds:.1f} s: {result.get('files_changed', 0)} files changed, "
            f"{result.get('files_deleted', 0)} removed, {result.get('embedded', 0)} texts embedded."
        )


if user.role == "site_admin":
    left, right, _ = st.columns([0.2, 0.2, 0.6])
    running = (job := svc.jobs.latest("index")) is not None and job.running
    left.button("Update (changed files)", on_click=start, args=(False,), icon=":material/sync:", disabled=running,
                key="index-update", type="primary")  # fmt: skip
    right.button("Rebuild every file", on_click=start, args=(True,), icon=":material/restart_alt:", disabled=running,
                 key="index-rebuild", help="Re-reads and re-chunks every file; cached embeddings are reused")  # fmt: skip
    if st.session_state.get("index_error"):
        st.error(st.session_state.pop("index_error"))
else:
    st.caption("Only a site admin can update or rebuild the index (it serves every organization).")
progress()

if stats is None:
    st.info(
        f"There is no index yet. {'Build it with Update above, or' if user.role == 'site_admin' else 'Ask a site admin, or run'} `make index`."
    )
    st.stop()

with st.container(horizontal=True, gap="medium"):
    st.metric("Files", f"{stats.files:,}", width="content")
    st.metric("Chunks", f"{stats.chunks:,}", width="content")
    st.metric("Skipped files", f"{sum(stats.skipped.values()):,}", width="content")
    st.metric("Size on disk", f"{stats.bytes_on_disk / 1e6:.1f} MB", width="content")
    st.metric("Generation", stats.generation, width="content")
st.caption(f"Source `{stats.source}` · built {stats.built_at} · embedding model `{stats.model_id}`")

left, right = st.columns(2, gap="large")
with left:
    st.subheader("By kind")
    kinds = pd.DataFrame(
        [
            {"kind": k, "files": stats.files_by_kind[k], "chunks": stats.chunks_by_kind.get(k, 0)}
            for k in sorted(stats.files_by_kind)
        ]
    )
    st.dataframe(kinds, hide_index=True, width="stretch")
with right:
    st.subheader("Skipped, and why")
    if not stats.skipped:
        st.caption("Nothing was skipped.")
    else:
        skipped = pd.DataFrame(
            [{"reason": r, "files": n, "for example": ", ".join(stats.skipped_examples.get(r, [])[:3])}
             for r, n in sorted(stats.skipped.items(), key=lambda item: -item[1])]
        )  # fmt: skip
        st.dataframe(skipped, hide_index=True, width="stretch")

last = stats.last_build
if last:
    st.subheader("Last build")
    phases = last.get("seconds", {})
    st.caption(
        f"{last.get('files_seen', 0)} files seen, {last.get('files_changed', 0)} changed, {last.get('files_deleted', 0)} removed; "
        f"{last.get('embedded', 0)} texts embedded ({last.get('embed_cache_hits', 0)} from cache); "
        f"{last.get('redactions', 0)} secrets redacted; {last.get('total_seconds', 0)} s ("
        + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items())
        + ")"
    )
