"""Build or update an index of a codebase, incrementally and safely.

A re-run reads only files whose size or modification time changed, and re-chunks only those whose
content really changed; vectors come from a cache keyed by the embedded text, so unchanged chunks
are never embedded again. Nothing the readers use changes until the catalog's final transaction:
the new BM25 folder and new vectors are written first, and only after the commit are the old
folder and stale vectors removed. A build that dies at any point leaves the previous index
serving; the next build cleans up what the dead one left behind.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from indexing.bm25_index import DELTA_LIMIT, LexicalIndex, remove_path
from indexing.cards import cache_key, file_card, file_unit
from indexing.catalog import Catalog, DenseUnit, EmbeddingCache, FileState, FileUpdate
from indexing.chunkers import is_test_path
from indexing.embedder import Embedder
from indexing.locks import exclusive
from indexing.process import (
    PROCESSING_VERSION,
    FileJob,
    FileProcessor,
    Skipped,
    content_hash,
    init_worker,
    process_in_worker,
)
from indexing.sources import DEFAULT_MAX_FILE_BYTES, WalkReport, read_source, walk
from indexing.tokens import TokenCounter
from indexing.vector_store import STATE_KEY as VECTOR_STATE_KEY
from indexing.vector_store import VectorStore

# (phase, done, total): the CLI draws progress bars from it, the dashboard a progress widget.
Progress = Callable[[str, int, int], None]
PARALLEL_FROM = 64  # files; below this, worker start-up costs more than it saves


class BuildLockedError(RuntimeError):
    """Another build of the same index is running."""


@dataclass
class BuildOptions:
    include_tests: bool = False
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    workers: int = 0  # 0: one per core, up to 2
    collection: str = "codebase"
    chroma_host: str | None = None
    chroma_port: int = 8000
    force: bool = False  # re-read and re-chunk every file, as if none was indexed (embeddings stay cached)


@dataclass
class BuildStats:
    source: str
    files_seen: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    files_deleted: int = 0
    chunks_total: int = 0
    chunks_written: int = 0
    dense_units: int = 0
    embedded: int = 0
    embed_cache_hits: int = 0
    redactions: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return round(sum(self.seconds.values()), 2)

    def as_dict(self) -> dict[str, object]:
        out = dict(self.__dict__)
        out["total_seconds"] = self.total_seconds
        return out


class IndexBuilder:
    def __init__(
        self,
        index_dir: Path,
        embedder_factory: Callable[[], Embedder],
        options: BuildOptions | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.index_dir = index_dir
        self.embedder_factory = embedder_factory
        self.options = options or BuildOptions()
        self.progress = progress or (lambda phase, done, total: None)
        # Test hook: called after everything is written and just before the commit.
        self.before_commit: Callable[[], None] | None = None

    def build(self, source: Path) -> BuildStats:
        source = source.resolve()
        if not source.is_dir():
            raise NotADirectoryError(f"{source} is not a folder")
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with exclusive(
            self.index_dir / "build.lock", lambda p: BuildLockedError(f"another build is updating {p.parent}")
        ):
            return self._build(source)

    # ------------------------------------------------------------------------------------------
    def _build(self, source: Path) -> BuildStats:
        stats = BuildStats(source=str(source))
        catalog = Catalog(self.index_dir)
        try:
            t0 = time.perf_counter()
            known = catalog.files()
            report = WalkReport()
            # Files processed by an older redaction or chunking are processed again (their
            # embeddings stay cached): a secret the old rules missed must not stay indexed.
            reprocess = self.options.force or catalog.state("processing_version") != PROCESSING_VERSION
            jobs, touched, seen = self._scan(source, known, report, stats, reprocess)
            stats.seconds["scan"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            updates: list[FileUpdate] = []
            for outcome in self._process(jobs):
                if isinstance(outcome, Skipped):  # counted, and treated as absent from the tree
                    report.skip(outcome.reason, outcome.path)
                    report.taken -= 1
                    seen.discard(outcome.path)
                else:
                    updates.append(outcome)
            deleted = sorted(set(known) - seen)
            stats.files_deleted = len(deleted)
            stats.files_changed = len(updates)
            stats.chunks_written = sum(len(u.chunks) for u in updates)
            stats.redactions = sum(u.state.redactions for u in updates) + sum(
                s.redactions
                for p, s in known.items()
                if p in seen and p not in {u.state.path for u in updates}
            )
            stats.seconds["chunk"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            refreshed, corpus_size = self._file_cards(updates, catalog, deleted)
            stats.seconds["cards"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            embedder = self.embedder_factory()
            vectors = VectorStore(
                self.index_dir, self.options.collection, self.options.chroma_host, self.options.chroma_port
            )
            model_changed = catalog.state("model_id") not in (None, embedder.model_id)
            if model_changed:  # every vector must be recomputed in the new model's space
                vectors.delete(sorted(vectors.ids()))
            self._embed(updates, refreshed, catalog, embedder, vectors, stats, refresh_all=model_changed)
            stats.seconds["embed"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            generation = int(catalog.state("generation", "0") or 0) + 1
            bm25_state, stats.chunks_total = self._lexical(catalog, updates, deleted, generation)
            stats.seconds["bm25"] = time.perf_counter() - t0

            if self.before_commit:
                self.before_commit()
            t0 = time.perf_counter()
            stats.skipped = dict(report.skipped)
            state = {
                "generation": str(generation),
                **bm25_state,
                "model_id": embedder.model_id,
                "source": str(source),
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "include_tests": str(self.options.include_tests).lower(),
                "vector_location": vectors.location,
                VECTOR_STATE_KEY: vectors.where.to_state(),
                "processing_version": PROCESSING_VERSION,
                "cards_corpus_size": str(corpus_size),
            }
            skipped = {r: (n, report.examples.get(r, [])) for r, n in report.skipped.items()}
            state["last_build"] = json.dumps({**stats.as_dict(), "skipped": stats.skipped})
            catalog.commit_build(updates, deleted, touched, state, skipped, refreshed)
            stats.seconds["commit"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            self._cleanup(catalog, vectors, bm25_state)
            stats.dense_units = len(catalog.dense_ids())
            stats.seconds["cleanup"] = time.perf_counter() - t0
            return stats
        finally:
            catalog.close()

    def _scan(
        self,
        source: Path,
        known: dict[str, FileState],
        report: WalkReport,
        stats: BuildStats,
        reprocess: bool = False,
    ) -> tuple[list[FileJob], list[FileState], set[str]]:
        jobs: list[FileJob] = []
        touched: list[FileState] = []
        seen: set[str] = set()
        for cand in walk(source, report, self.options.max_file_bytes):
            if not self.options.include_tests and is_test_path(cand.path):
                report.skip("test code (INDEX_INCLUDE_TESTS=false)", cand.path)
                continue
            stats.files_seen += 1
            old = None if reprocess else known.get(cand.path)
            if old and old.size == cand.size and old.mtime_ns == cand.mtime_ns:
                seen.add(cand.path)
                report.taken += 1
                stats.files_unchanged += 1
                continue
            src = read_source(cand, report)
            if src is None:
                continue
            seen.add(cand.path)
            digest = content_hash(src.text)
            if old and old.content_hash == digest and old.kind == src.kind:
                touched.append(
                    FileState(
                        cand.path, old.kind, cand.size, cand.mtime_ns, digest, old.chunks, old.redactions
                    )
                )
                stats.files_unchanged += 1
                continue
            jobs.append(FileJob(src.path, src.kind, src.text, src.size, src.mtime_ns, digest))
        return jobs, touched, seen

    def _process(self, jobs: list[FileJob]) -> list[FileUpdate | Skipped]:
        total = len(jobs)
        self.progress("chunk", 0, total)
        if not jobs:
            return []
        workers = self.options.workers or min(2, os.cpu_count() or 1)
        updates: list[FileUpdate | Skipped] = []
        if workers > 1 and total >= PARALLEL_FROM:
            ctx = get_context("spawn")  # no fork after native libraries started threads
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=init_worker) as pool:
                for i, update in enumerate(pool.map(process_in_worker, jobs, chunksize=8), 1):
                    updates.append(update)
                    if i % 25 == 0 or i == total:
                        self.progress("chunk", i, total)
        else:
            processor = FileProcessor()
            for i, job in enumerate(jobs, 1):
                updates.append(processor.process_or_skip(job))
                self.progress("chunk", i, total)
        return updates

    def _file_cards(
        self, updates: list[FileUpdate], catalog: Catalog, deleted: list[str]
    ) -> tuple[list[DenseUnit], int]:
        """Add a TF-IDF card to every changed file; return re-made cards of unchanged files.

        Document frequencies drift as the codebase changes; the cards of unchanged files are
        re-made when the number of files has moved by more than a quarter since they were made
        (the embedding cache makes the unchanged ones free).
        """
        stored = catalog.file_words()
        changed = {u.state.path for u in updates}
        gone = changed | set(deleted)
        # Files without content words (test files, which get no card) are not part of the corpus
        # the document frequencies describe, in this build or any other.
        corpus = {p: v for p, v in stored.items() if p not in gone and v[0]}
        for u in updates:
            if u.word_counts:
                corpus[u.state.path] = (u.word_counts, u.symbols)
        df: Counter[str] = Counter()
        for counts, _ in corpus.values():
            df.update(counts.keys())
        n = len(corpus)
        counter = TokenCounter()
        for u in updates:
            if u.word_counts:
                text = file_card(u.state.path, u.symbols, u.word_counts, df, n, counter)
                u.dense.append(file_unit(u.state.path, text))
        last = int(catalog.state("cards_corpus_size", "0") or 0)
        refreshed: list[DenseUnit] = []
        if last and abs(n - last) > last / 4:
            for path, (counts, symbols) in corpus.items():
                if path not in changed and counts:
                    refreshed.append(file_unit(path, file_card(path, symbols, counts, df, n, counter)))
        return refreshed, n

    def _embed(
        self,
        updates: list[FileUpdate],
        refreshed: list[DenseUnit],
        catalog: Catalog,
        embedder: Embedder,
        vectors: VectorStore,
        stats: BuildStats,
        refresh_all: bool,
    ) -> None:
        units = [u for update in updates for u in update.dense] + refreshed
        # Vectors of unchanged files must be in the store too: after a model change, or when the
        # store was emptied or swapped (a new Chroma server), they are restored from the cache.
        changed = {update.state.path for update in updates}
        present = set() if refresh_all else vectors.ids()
        renewed = {u.path for u in refreshed}
        units += [
            u
            for u in catalog.dense_units()
            if u.path not in changed
            and u.id not in present
            and not (u.chunk_id is None and u.path in renewed)
        ]
        cache = EmbeddingCache(self.index_dir, embedder.dimension)
        try:
            keys = [cache_key(embedder.model_id, u.text) for u in units]
            found = cache.get_many(sorted(set(keys)))
            missing = sorted({k: u.text for k, u in zip(keys, units, strict=True) if k not in found}.items())
            stats.embed_cache_hits = len(units) - sum(1 for k in keys if k not in found)
            done = 0
            self.progress("embed", 0, len(missing))
            step = 256  # commit the cache as it fills: an interrupted build keeps its work
            for start in range(0, len(missing), step):
                batch = missing[start : start + step]
                vecs = embedder.embed([text for _, text in batch])
                cache.put_many(zip([k for k, _ in batch], vecs, strict=True))
                found.update({k: v for (k, _), v in zip(batch, vecs, strict=True)})
                done += len(batch)
                self.progress("embed", done, len(missing))
            stats.embedded = len(missing)
            if units:
                matrix = np.stack([found[k] for k in keys]).astype(np.float32)
                vectors.upsert([u.id for u in units], matrix, [u.path for u in units])
        finally:
            cache.close()

    def _lexical(
        self, catalog: Catalog, updates: list[FileUpdate], deleted: list[str], generation: int
    ) -> tuple[dict[str, str], int]:
        """Write this generation's BM25: a delta over the current base when the change is small,
        else a new base. Returns the state keys that point at it and the number of live chunks."""
        changed = {u.state.path for u in updates} | set(deleted)
        base_rel = catalog.state("bm25_base") or ""
        delta_rel = catalog.state("bm25_delta") or ""
        base_dir = self.index_dir / base_rel if base_rel else None
        live_before = catalog.chunk_count()
        stale = catalog.chunk_ids_of(changed)
        new_docs = [(c.id, t) for u in updates for c, t in zip(u.chunks, u.terms, strict=True)]
        live_after = live_before - len(stale) + len(new_docs)
        if base_dir is not None and base_dir.is_dir():
            if not changed:
                return {"bm25_base": base_rel, "bm25_delta": delta_rel}, live_after
            base_ids = set(LexicalIndex.base_chunk_ids(base_dir))
            removed: set[str] = set()
            docs: list[tuple[str, list[str]]] = []
            if delta_rel:
                _, prev_removed, prev_docs = LexicalIndex.read_delta(self.index_dir / delta_rel)
                removed = set(prev_removed)
                docs = [(cid, t) for cid, t in prev_docs if cid not in stale]
            removed |= stale & base_ids
            docs += new_docs
            if len(removed) + len(docs) <= DELTA_LIMIT * max(1, len(base_ids)):
                delta = self.index_dir / "bm25" / f"g{generation:06d}-delta.json"
                LexicalIndex.write_delta(delta, base_rel, sorted(removed), docs)
                return {
                    "bm25_base": base_rel,
                    "bm25_delta": str(delta.relative_to(self.index_dir)),
                }, live_after
        folder = self.index_dir / "bm25" / f"g{generation:06d}"
        ids: list[str] = []
        terms: list[list[str]] = []
        for cid, chunk_terms in catalog.terms_except(changed):
            ids.append(cid)
            terms.append(chunk_terms)
        for cid, chunk_terms in new_docs:
            ids.append(cid)
            terms.append(chunk_terms)
        LexicalIndex.build_base(terms, ids, folder)
        return {"bm25_base": str(folder.relative_to(self.index_dir)), "bm25_delta": ""}, len(ids)

    def _cleanup(self, catalog: Catalog, vectors: VectorStore, bm25_state: dict[str, str]) -> None:
        """Remove what no committed index refers to: old BM25 files, stale vectors."""
        root = self.index_dir / "bm25"
        keep = {(self.index_dir / rel).resolve() for rel in bm25_state.values() if rel}
        if root.is_dir():
            for entry in root.iterdir():
                if entry.resolve() not in keep:
                    remove_path(entry)
        live = catalog.dense_ids()
        stale = sorted(vectors.ids() - live)
        if stale:
            vectors.delete(stale)
        local = self.index_dir / "chroma"
        if vectors.where.kind == "server" and local.exists():  # moved to a server: the old copy goes
            remove_path(local)
