"""Retrieval lab: see each ranker's ranking of a query side by side, change top-k and the fusion weights
and watch the ranking change, run an evaluation set, and replay past chat turns against today's index."""

from __future__ import annotations

import streamlit as st

from app.config import PROJECT_ROOT
from app.jobs import Job, JobBusyError
from app.permissions.policy import UserContext
from app.retrieval import lab
from app.retrieval.hybrid import FusionWeights
from app.retrieval.types import RetrievedChunk
from components.charts import metrics_by_group, metrics_over_runs
from components.panels import LANGUAGE, chunk_title, numbered
from components.report_controls import require_admin
from components.search_results import evidence_line
from components.session import load_services
from indexing.evaluation import Question, load_questions

svc = load_services()
user: UserContext = st.session_state.user
require_admin(user)
st.title("Retrieval lab")
BUNDLED = PROJECT_ROOT / "sandbox" / "eval" / "questions.jsonl"
TABS = ["Query", "Evaluate", "Replay"]

if svc.retrieval.stats() is None:
    st.info("There is no index yet: build one on the Index page (or `make index`), then come back.")
    st.stop()
st.caption(f"Index: {svc.retrieval.fingerprint()}")

# --- settings shared by every tab (in the URL, so a link reproduces the view) --------------------
default = svc.retrieval.weights
with st.expander("Settings: top-k and fusion weights", expanded=False, icon=":material/tune:"):
    cols = st.columns(5)
    k = cols[0].number_input("Top-k files", 1, 30, svc.settings.retrieval_top_k, key="k", bind="query-params")
    w_bm25 = cols[1].number_input(
        "BM25 weight", 0.0, 3.0, default.bm25, 0.1, key="w_bm25", bind="query-params"
    )
    w_chunks = cols[2].number_input(
        "Dense chunk cards", 0.0, 3.0, default.dense_chunks, 0.1, key="w_chunks", bind="query-params"
    )
    w_files = cols[3].number_input(
        "Dense file cards", 0.0, 3.0, default.dense_files, 0.1, key="w_files", bind="query-params"
    )
    rrf_k = cols[4].number_input(
        "RRF k (0: scaled to the corpus)", 0, 200, default.rrf_k or 0, key="rrf_k", bind="query-params"
    )
weights = FusionWeights(w_bm25, w_chunks, w_files, int(rrf_k) or None)
if weights != default or k != svc.settings.retrieval_top_k:
    st.caption(f"Using your settings: top-{k}, weights BM25 {w_bm25}, chunk cards {w_chunks}, file cards {w_files}, "
               f"RRF k {rrf_k if rrf_k else 'auto'}. The assistant itself uses the defaults.")  # fmt: skip

if st.session_state.get("lab", TABS[0]) not in TABS:  # a stale value: back to the default
    del st.session_state["lab"]
query_tab, eval_tab, replay_tab = st.tabs(TABS, key="lab", on_change="rerun", bind="query-params")


def show_in_file(chunk: RetrievedChunk) -> None:
    excerpt = lab.file_excerpt(svc.retrieval.source, chunk.path, chunk.start_line, chunk.end_line)
    if excerpt is None:
        st.caption("The indexed tree is not on this machine; showing the chunk only.")
        st.code(numbered(chunk.text, chunk.start_line), language=LANGUAGE.get(chunk.kind))
        return
    first, text = excerpt
    st.caption(f"Lines {first}-{first + len(text.splitlines()) - 1} of `{chunk.path}`; the chunk is lines "
               f"{chunk.start_line}-{chunk.end_line}.")  # fmt: skip
    st.code(numbered(text, first), language=LANGUAGE.get(chunk.kind))


if query_tab.open:
    query = st.text_input("Query", key="q", bind="query-params", placeholder="e.g. who may publish a course?")
    if not query.strip():
        st.caption("Type a question as an admin would ask it. Each ranker's list appears side by side.")
    else:
        rankings = svc.retrieval.rankings(query, weights) or {}
        result = svc.retrieval.search(query, int(k), weights=weights)
        for warning in result.warnings if result else ():
            st.warning(warning, icon=":material/warning:")
        st.markdown("**Rankings side by side** (files; scores are each ranker's own)")
        st.dataframe(lab.ranking_table(rankings, int(k)), hide_index=True, width="stretch")
        st.markdown(
            f"**Fused results** ({len(result.chunks) if result else 0} files in {result.latency_ms if result else 0:.0f} ms)"
        )
        for rank, chunk in enumerate(result.chunks if result else [], 1):
            with st.container(border=True, key=f"lab-hit-{rank}"):
                st.markdown(f"**{rank}.** {chunk_title(chunk.as_dict())}")
                st.caption(evidence_line(chunk.as_dict(), rank))
                with st.expander(f"Open in {chunk.path}"):
                    show_in_file(chunk)

if eval_tab.open:
    source = st.radio("Question set", ["bundled", "upload"], horizontal=True, key="qset", bind="query-params",
                      format_func=lambda s: f"Bundled ({BUNDLED.name}, the sandbox's own)" if s == "bundled" else "Upload a JSONL file")  # fmt: skip
    questions: list[Question] = []
    name = BUNDLED.name
    if source == "bundled":
        questions = load_questions(BUNDLED)
    else:
        upload = st.file_uploader(
            "Questions (JSONL: id, question, gold, kind per line)",
            type=["jsonl", "json", "txt"],
            key="upload",
        )
        if upload is not None:
            name = upload.name
            try:
                questions = lab.parse_questions(
                    upload.getvalue().decode("utf-8", errors="replace"), upload.name
                )
            except ValueError as exc:
                st.error(str(exc))
    if questions:
        kinds = sorted({q.kind for q in questions})
        st.caption(f"{len(questions)} questions of {len(kinds)} kinds ({', '.join(kinds)}), run at top-{k}.")

    def run() -> None:
        chosen, set_name, top, used = list(questions), name, int(k), weights

        def work(report: object) -> str:
            outcome = lab.evaluate(
                svc.retrieval, chosen, top, used, lambda done, total: report(done, total, "questions")
            )  # type: ignore[operator]
            return lab.record_run(
                svc.store, svc.retrieval, set_name, chosen, top, used, outcome, user.user_id
            ).id

        try:
            svc.jobs.start("eval", f"Evaluating {set_name}", work)
        except JobBusyError as exc:
            st.session_state.eval_error = str(exc)

    st.button("Run the evaluation", type="primary", icon=":material/play_arrow:", key="run-eval",
              disabled=not questions, on_click=run)  # fmt: skip
    if st.session_state.get("eval_error"):
        st.error(st.session_state.pop("eval_error"))

    @st.fragment(run_every=0.5)
    def eval_progress() -> None:
        job: Job | None = svc.jobs.latest("eval")
        if job is None:
            return
        if job.running:
            st.progress(job.fraction, text=f"{job.label}: {job.done}/{job.total or '?'} questions")
        elif st.session_state.get("eval_seen") != job.id:
            st.session_state.eval_seen = job.id
            if job.status == "done":
                st.session_state.eval_run = job.result
            st.rerun(scope="app")
        elif job.status == "failed":
            st.error(f"The evaluation failed: {job.error}")

    eval_progress()

    runs = svc.store.eval_runs.list()
    if not runs:
        st.info(
            "No evaluation has been run yet. Run the bundled set to see recall and MRR per question kind."
        )
    else:
        by_id = {r.id: r for r in runs}
        if st.session_state.get("eval_run") not in by_id:
            st.session_state.eval_run = runs[0].id
        chosen_id = st.selectbox(
            "Run", list(by_id), key="eval_run",
            format_func=lambda i: f"{by_id[i].at:%Y-%m-%d %H:%M} · {by_id[i].name} · {by_id[i].questions} questions · "
                                  f"recall@5 {by_id[i].metrics.get('overall', {}).get('recall@5', 0):.2f}",
        )  # fmt: skip
        picked = by_id[chosen_id]
        st.caption(f"Index: {picked.index_fingerprint} · settings {picked.settings} · {picked.seconds:.1f} s")
        table = lab.metrics_frame(picked.metrics)
        left, right = st.columns([0.5, 0.5], gap="large")
        left.dataframe(table, hide_index=True, width="stretch", column_config={
            m: st.column_config.NumberColumn(m, format="%.3f") for m in lab.METRICS})  # fmt: skip
        right.plotly_chart(
            metrics_by_group(table, ["recall@5", "mrr@10"]), width="stretch", config={"displayModeBar": False}
        )
        same = lab.comparable(runs, picked)
        if len(same) > 1:
            st.plotly_chart(metrics_over_runs(lab.history_frame(same), ["recall@5", "mrr@10"]), width="stretch",
                            config={"displayModeBar": False})  # fmt: skip
        else:
            st.caption("No earlier run of these questions on this index with these settings to compare with "
                       "(runs of other question sets, index builds or settings are not comparable).")  # fmt: skip
        misses = [r for r in picked.results if r["first_gold_rank"] is None or r["first_gold_rank"] > 5]
        with st.expander(f"Questions whose answer is not in the top 5 ({len(misses)})"):
            st.dataframe(
                [{"id": r["id"], "kind": r["kind"], "question": r["question"], "gold": ", ".join(r["gold"]),
                  "first gold at": r["first_gold_rank"], "top files": ", ".join(r["top"][:5])} for r in misses],
                hide_index=True, width="stretch",
            )  # fmt: skip

if replay_tab.open:
    turns = svc.store.reports.recent_turns(None if user.role == "site_admin" else user.organization_id, 100)
    turns = [t for t in turns if (t.view or {}).get("query")]
    if not turns:
        st.info(
            "No chat turn has retrieved anything yet. Ask a question on the Chat page, then replay it here."
        )
    else:
        by_turn = {t.id: t for t in turns}
        turn_id = st.selectbox(
            "A past turn", list(by_turn), key="replay",
            format_func=lambda i: f"{by_turn[i].started_at:%Y-%m-%d %H:%M} · {by_turn[i].label[:80]}",
        )  # fmt: skip
        turn = by_turn[turn_id]
        view = turn.view or {}
        st.caption(f"Searched then for: *{view.get('query')}*")
        now = svc.retrieval.search(str(view.get("query")), int(k), weights=weights)
        diff = lab.replay_diff(view.get("chunks", []), [c.path for c in now.chunks] if now else [])
        changed = diff[diff["change"] != "same"]
        st.caption(
            f"{len(changed)} of {len(diff)} files moved, appeared or dropped with today's index and settings."
        )
        st.dataframe(diff, hide_index=True, width="stretch")
