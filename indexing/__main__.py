"""`python -m indexing`: build, query, inspect and evaluate the search index.

python -m indexing build PATH        index a codebase (incremental; safe to interrupt)
python -m indexing ensure            build the default corpus (INDEX_SOURCE) if needed
python -m indexing query "text"      ranked chunks with path:lines and each ranker's score
python -m indexing stats             files and chunks per kind, skipped files, size on disk
python -m indexing eval --questions Q.jsonl --out results.jsonl
python -m indexing fill-cache        embed every chunk's full text (after a build; resumable)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def _settings() -> Any:
    from indexing.settings import IndexSettings

    return IndexSettings()


def _progress_bars() -> Any:
    from tqdm import tqdm

    bars: dict[str, Any] = {}
    labels = {
        "chunk": "reading and chunking files",
        "embed": "embedding new texts",
        "passages": "embedding chunk passages",
    }

    def progress(phase: str, done: int, total: int) -> None:
        if total == 0:
            return
        bar = bars.get(phase)
        if bar is None:
            bar = bars[phase] = tqdm(
                total=total, desc=labels.get(phase, phase), unit=" item", file=sys.stderr
            )
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return progress


def _builder(settings: Any, quiet: bool) -> Any:
    from indexing.builder import BuildOptions, IndexBuilder
    from indexing.embedder import shared_embedder

    options = BuildOptions(
        include_tests=settings.index_include_tests,
        max_file_bytes=settings.index_max_file_kb * 1024,
        collection=settings.chroma_collection,
        chroma_host=settings.chroma_host,
        chroma_port=settings.chroma_port,
    )
    return IndexBuilder(
        settings.resolved_index_dir,
        lambda: shared_embedder(settings.embedding_batch_size, settings.embedding_threads),
        options,
        progress=None if quiet else _progress_bars(),
    )


def _print_build(stats: Any) -> None:
    print(
        f"Indexed {stats.source}: {stats.files_seen} files ({stats.files_changed} new or changed, "
        f"{stats.files_unchanged} unchanged, {stats.files_deleted} removed), {stats.chunks_total} chunks, "
        f"{stats.embedded} texts embedded ({stats.embed_cache_hits} from cache), "
        f"{stats.redactions} secrets redacted, in {stats.total_seconds:.1f} s"
    )
    phases = ", ".join(f"{k} {v:.1f}s" for k, v in stats.seconds.items())
    print(f"  phases: {phases}")
    if stats.skipped:
        skipped = ", ".join(
            f"{n} {reason}" for reason, n in sorted(stats.skipped.items(), key=lambda x: -x[1])
        )
        print(f"  skipped: {skipped}")


def cmd_build(args: argparse.Namespace) -> int:
    settings = _settings()
    stats = _builder(settings, args.quiet).build(Path(args.path))
    _print_build(stats)
    return 0


def cmd_ensure(args: argparse.Namespace) -> int:
    from indexing.search.index_reader import IndexReader

    settings = _settings()
    index_dir = settings.resolved_index_dir
    if IndexReader.exists(index_dir) and not args.update:
        print(f"Index ready at {index_dir} (python -m indexing build PATH to update it)")
        return 0
    print(f"Building the index of {settings.index_source} into {index_dir} ...")
    stats = _builder(settings, args.quiet).build(settings.index_source)
    _print_build(stats)
    return 0


def _retriever(settings: Any) -> Any:
    from indexing.embedder import shared_embedder
    from indexing.search.hybrid import HybridRetriever
    from indexing.search.index_reader import IndexReader

    reader = IndexReader(
        settings.resolved_index_dir, settings.chroma_collection, settings.chroma_host, settings.chroma_port
    )
    return HybridRetriever(
        reader, lambda: shared_embedder(settings.embedding_batch_size, settings.embedding_threads)
    )


def cmd_query(args: argparse.Namespace) -> int:
    settings = _settings()
    result = _retriever(settings).retrieve(
        args.text, k=args.k, chunks_per_file=args.per_file, mode="turn" if args.turn else "search"
    )
    for warning in result.warnings:  # e.g. the vector server is down: these results are BM25 alone
        print(f"warning: {warning}", file=sys.stderr)
    if not result.chunks:
        print("No match. Try other words, or check `python -m indexing stats`.")
        return 1
    for i, hit in enumerate(result.chunks, 1):
        signals = "  ".join(f"{k}={v:g}" for k, v in hit.scores.items())
        print(f"{i:>2}. {hit.citation}  {hit.symbol}".rstrip())
        print(f"    {signals}")
        if args.show:
            for line in hit.text.splitlines()[: args.show]:
                print(f"    | {line}")
    print(f"({result.latency_ms:.0f} ms, index generation {result.index_generation})")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from indexing.catalog import Catalog

    settings = _settings()
    index_dir = settings.resolved_index_dir
    if not (index_dir / "catalog.sqlite").is_file():
        print(f"No index at {index_dir}. Build one with `python -m indexing build PATH`.")
        return 1
    catalog = Catalog(index_dir, readonly=True)
    try:
        state = catalog.all_state()
        print(f"Index at {index_dir}")
        print(
            f"  source: {state.get('source')}  built: {state.get('built_at')}  generation: {state.get('generation')}"
        )
        print(f"  embedding model: {state.get('model_id')}  vectors: {state.get('vector_location')}")
        print(f"  {'kind':<12}{'files':>7}{'chunks':>9}")
        counts = catalog.counts_by_kind()
        for kind, (files, chunks) in sorted(counts.items(), key=lambda x: -x[1][1]):
            print(f"  {kind:<12}{files:>7}{chunks:>9}")
        total_files = sum(f for f, _ in counts.values())
        total_chunks = sum(c for _, c in counts.values())
        print(f"  {'total':<12}{total_files:>7}{total_chunks:>9}   dense texts: {len(catalog.dense_ids())}")
        from indexing.passages import fill_status

        filled, distinct = fill_status(index_dir, state.get("model_id", ""))
        print(
            f"  passage vectors (full chunk text): {filled} of {distinct}"
            + ("" if filled >= distinct else "  (python -m indexing fill-cache to complete)")
        )
        redacted = catalog.db.execute("SELECT COALESCE(SUM(redactions), 0) FROM files").fetchone()[0]
        print(f"  secrets redacted in indexed text: {redacted}")
        skipped = catalog.skipped()
        if skipped:
            print("  skipped files:")
            for reason, (n, examples) in sorted(skipped.items(), key=lambda x: -x[1][0]):
                print(f"    {n:>6}  {reason}  (e.g. {', '.join(examples[:2])})")
        size = sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file())
        print(f"  size on disk: {size / 1e6:.1f} MB")
        last = state.get("last_build")
        if last and args.verbose:
            print(json.dumps(json.loads(last), indent=2))
    finally:
        catalog.close()
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from indexing.evaluation import format_table, load_questions, summarize

    settings = _settings()
    retriever = _retriever(settings)
    questions = load_questions(Path(args.questions))
    results: dict[str, list[str]] = {}
    latencies = []
    with open(args.out, "w", encoding="utf-8") as out:
        for q in questions:
            t0 = time.perf_counter()
            got = retriever.retrieve(q.question, k=args.k, mode=args.mode)
            latencies.append((time.perf_counter() - t0) * 1000)
            results[q.id] = [c.path for c in got.chunks]
            out.write(json.dumps({"id": q.id, "retrieved": results[q.id]}) + "\n")
    print(format_table(summarize(questions, results)))
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))] if latencies else 0.0
    print(
        f"query latency: median {latencies[len(latencies) // 2]:.0f} ms, p95 {p95:.0f} ms ({len(latencies)} queries)"
    )
    return 0


def cmd_fill_cache(args: argparse.Namespace) -> int:
    import resource

    from indexing.embedder import shared_embedder
    from indexing.passages import fill_passages
    from indexing.tokens import TokenCounter

    settings = _settings()
    index_dir = settings.resolved_index_dir
    if not (index_dir / "catalog.sqlite").is_file():
        print(f"No index at {index_dir}. Build one with `python -m indexing build PATH`.")
        return 1
    bars = None if args.quiet else _progress_bars()
    embedder = shared_embedder(settings.embedding_batch_size, settings.embedding_threads)

    def progress(done: int, total: int) -> None:
        if bars is not None:
            bars("passages", done, total)

    deadline = None if args.max_seconds is None else time.monotonic() + args.max_seconds

    def should_stop() -> bool:
        return deadline is not None and time.monotonic() >= deadline

    stats = fill_passages(
        index_dir, embedder, TokenCounter(), progress, limit=args.limit, should_stop=should_stop
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    state = "complete" if stats.complete else "incomplete (run it again to continue)"
    print(
        f"Passage vectors of {index_dir}: {stats.distinct} distinct passages of {stats.chunks} chunks, "
        f"{stats.cached_before} already cached, {stats.embedded} embedded in {stats.seconds:.1f} s, "
        f"{stats.pruned} stale removed; {state}; peak memory {peak_mb:.0f} MB"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m indexing", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="index a codebase (incremental)")
    p.add_argument("path")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("ensure", help="build the default corpus if there is no index yet")
    p.add_argument("--update", action="store_true", help="also update an existing index (incremental)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_ensure)
    p = sub.add_parser("query", help="search the index")
    p.add_argument("text")
    p.add_argument("-k", type=int, default=8, help="distinct files to show")
    p.add_argument("--per-file", type=int, default=1, help="chunks per file")
    p.add_argument("--show", type=int, default=0, metavar="LINES", help="print the first LINES of each chunk")
    p.add_argument(
        "--turn", action="store_true", help="a chat turn's retrieval (embeds missing candidate passages)"
    )
    p.set_defaults(func=cmd_query)
    p = sub.add_parser("stats", help="what the index holds")
    p.add_argument("-v", "--verbose", action="store_true", help="also print the last build's figures")
    p.set_defaults(func=cmd_stats)
    p = sub.add_parser("eval", help="recall@1/5/10 and MRR@10 on a question set")
    p.add_argument("--questions", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("-k", type=int, default=10)
    p.add_argument(
        "--mode",
        choices=["search", "turn"],
        default="turn",
        help="interactive search or a chat turn's retrieval",
    )
    p.set_defaults(func=cmd_eval)
    p = sub.add_parser("fill-cache", help="embed the full text of every chunk (resumable, after a build)")
    p.add_argument("--limit", type=int, default=None, help="embed at most this many passages")
    p.add_argument(
        "--max-seconds", type=float, default=None, help="stop after this long (resumable: run it again)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_fill_cache)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("\nInterrupted: the previous index is still the one in use.", file=sys.stderr)
        return 130
    except (FileNotFoundError, NotADirectoryError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
