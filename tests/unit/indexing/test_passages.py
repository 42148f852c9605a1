"""The passage vector store and its background fill: keys, incremental and resumable filling,
reuse across builds, pruning, and one fill at a time. A counting fake embedder stands in for the
model (what is embedded, and how often, is what these tests are about)."""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from indexing.catalog import Catalog, FileState, FileUpdate
from indexing.chunk import Chunk
from indexing.embedder import WINDOW_TOKENS
from indexing.passages import (
    PASSAGE_TOKENS,
    FillRunningError,
    PassageStore,
    fill_passages,
    fill_status,
    passage_header,
    passage_key,
    passage_text,
)
from indexing.tokens import TokenCounter


class CountingEmbedder:
    """Deterministic unit vectors from a hash of the text; records every text it embeds."""

    model_id = "fake-model"
    dimension = 8

    def __init__(self) -> None:
        self.embedded: list[str] = []
        self.calls = 0

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def count_line_tokens(self, lines: list[str]) -> list[int]:
        return [len(line.split()) for line in lines]

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.calls += 1
        self.embedded.extend(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)
            v = np.random.default_rng(seed).normal(size=self.dimension).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out


def _chunk(path: str, start: int, text: str, symbol: str = "", route: str | None = None) -> Chunk:
    meta = {"route": route} if route else {}
    end = start + text.count("\n")
    return Chunk(path, "python", "function", symbol, start, end, text, meta)


def _commit(index_dir: Path, files: dict[str, list[Chunk]], generation: int) -> None:
    catalog = Catalog(index_dir)
    try:
        known = set(catalog.files())
        updates = [
            FileUpdate(
                FileState(path, "python", 1, generation, f"{path}-{generation}", len(chunks), 0),
                chunks,
                [[] for _ in chunks],
                [],
                {},
                [],
            )
            for path, chunks in files.items()
        ]
        catalog.commit_build(updates, sorted(known - set(files)), [], {"generation": str(generation)}, {})
    finally:
        catalog.close()


FILES = {
    "api/members.py": [
        _chunk("api/members.py", 1, "def remove_member():\n    require(MANAGE_MEMBERS)", "remove_member",
               "DELETE /members/{id}"),
        _chunk("api/members.py", 3, "def add_member():\n    require(ADD_MEMBERS)", "add_member"),
    ],
    "config/limits.yaml": [_chunk("config/limits.yaml", 1, "max_projects_per_org: 25")],
    "docs/guide.md": [_chunk("docs/guide.md", 1, "# Guide\nHow to enroll students.", "Guide")],
}  # fmt: skip


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    path = tmp_path / "index"
    _commit(path, FILES, 1)
    return path


def _stored(index_dir: Path) -> set[str]:
    store = PassageStore(index_dir, 8)
    try:
        return store.keys()
    finally:
        store.close()


def test_the_header_names_path_symbol_and_route() -> None:
    chunk = FILES["api/members.py"][0]
    assert passage_header(chunk) == "api/members.py :: remove_member :: [DELETE /members/{id}]"
    assert passage_header(FILES["config/limits.yaml"][0]) == "config/limits.yaml"


def test_the_key_follows_the_text_not_the_position() -> None:
    a = _chunk("a.py", 1, "x = 1", "x")
    moved = _chunk("a.py", 40, "x = 1", "x")  # same text further down the file
    edited = _chunk("a.py", 1, "x = 2", "x")
    assert passage_key("m", a) == passage_key("m", moved)
    assert passage_key("m", a) != passage_key("m", edited)
    assert passage_key("m", a) != passage_key("other-model", a)


def test_a_passage_fits_the_model_window(counter: TokenCounter) -> None:
    long = _chunk("a.py", 1, "\n".join(f"value_{i} = compute_something({i})" for i in range(400)), "x")
    text = passage_text(long, counter)
    assert counter.count(text) <= PASSAGE_TOKENS == WINDOW_TOKENS - 2
    assert text.startswith("a.py :: x\nvalue_0 = ")
    short = FILES["config/limits.yaml"][0]
    assert passage_text(short, counter) == "config/limits.yaml\nmax_projects_per_org: 25"


def test_a_fill_embeds_every_chunk_once_and_a_second_fill_nothing(
    index_dir: Path, counter: TokenCounter
) -> None:
    embedder = CountingEmbedder()
    progress: list[tuple[int, int]] = []
    first = fill_passages(index_dir, embedder, counter, lambda d, t: progress.append((d, t)), batch=2)
    assert (first.chunks, first.distinct, first.cached_before, first.embedded) == (4, 4, 0, 4)
    assert first.complete
    assert progress[0] == (0, 4) and progress[-1] == (4, 4)
    assert len(embedder.embedded) == 4 and embedder.calls == 2  # batches of 2
    assert len(_stored(index_dir)) == 4
    assert fill_status(index_dir, embedder.model_id) == (4, 4)

    again = fill_passages(index_dir, embedder, counter)
    assert (again.cached_before, again.embedded, again.complete) == (4, 0, True)
    assert len(embedder.embedded) == 4


def test_a_partial_fill_is_resumed_where_it_stopped(index_dir: Path, counter: TokenCounter) -> None:
    embedder = CountingEmbedder()
    partial = fill_passages(index_dir, embedder, counter, limit=1)
    assert (partial.embedded, partial.complete) == (1, False)
    assert fill_status(index_dir, embedder.model_id) == (1, 4)

    # stopped from outside after the first batch (the dashboard's cancel, or Ctrl-C between batches)
    stops = iter([False, True])
    stopped = fill_passages(index_dir, embedder, counter, batch=1, should_stop=lambda: next(stops))
    assert (stopped.embedded, stopped.complete) == (1, False)
    assert fill_status(index_dir, embedder.model_id) == (2, 4)

    rest = fill_passages(index_dir, embedder, counter)
    assert (rest.cached_before, rest.embedded, rest.complete) == (2, 2, True)
    assert len(embedder.embedded) == len(set(embedder.embedded)) == 4  # nothing embedded twice


def test_an_interrupted_batch_keeps_the_batches_before_it(index_dir: Path, counter: TokenCounter) -> None:
    class Dying(CountingEmbedder):
        def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
            if self.calls == 1:
                raise KeyboardInterrupt
            return super().embed(texts, progress)

    with pytest.raises(KeyboardInterrupt):
        fill_passages(index_dir, Dying(), counter, batch=2)
    assert fill_status(index_dir, "fake-model") == (2, 4)
    rest = fill_passages(index_dir, CountingEmbedder(), counter, batch=2)
    assert (rest.cached_before, rest.embedded) == (2, 2)


def test_a_rebuild_reuses_vectors_of_unchanged_text_and_a_complete_fill_prunes(
    index_dir: Path, counter: TokenCounter
) -> None:
    embedder = CountingEmbedder()
    fill_passages(index_dir, embedder, counter)
    before = _stored(index_dir)
    # generation 2: one chunk edited, one file moved down by ten lines (same text), one deleted
    members = FILES["api/members.py"]
    files = {
        "api/members.py": [
            _chunk("api/members.py", 11, members[0].text, members[0].symbol, "DELETE /members/{id}"),
            _chunk("api/members.py", 13, "def add_member():\n    require(MANAGE_MEMBERS)", "add_member"),
        ],
        "config/limits.yaml": FILES["config/limits.yaml"],
    }
    _commit(index_dir, files, 2)
    assert fill_status(index_dir, embedder.model_id) == (2, 3)
    embedder.embedded.clear()
    stats = fill_passages(index_dir, embedder, counter)
    assert (stats.cached_before, stats.embedded, stats.complete) == (2, 1, True)
    assert embedder.embedded == [
        "api/members.py :: add_member\ndef add_member():\n    require(MANAGE_MEMBERS)"
    ]
    assert stats.pruned == 2  # the old add_member and the deleted guide
    after = _stored(index_dir)
    assert len(after) == 3 and len(after & before) == 2


def test_one_fill_at_a_time(index_dir: Path, counter: TokenCounter) -> None:
    with open(index_dir / "fill.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(FillRunningError):
            fill_passages(index_dir, CountingEmbedder(), counter)
        fcntl.flock(handle, fcntl.LOCK_UN)
    assert fill_passages(index_dir, CountingEmbedder(), counter).complete


def test_the_store_is_read_incrementally_by_row(tmp_path: Path) -> None:
    store = PassageStore(tmp_path, 8)
    vec = np.ones(8, dtype=np.float32)
    store.put_many([("a", vec), ("b", 2 * vec)])
    last, keys, matrix = store.rows_after(0)
    assert keys == ["a", "b"] and matrix.shape == (2, 8)
    store.put_many([("b", 3 * vec), ("c", 4 * vec)])  # "b" is kept as first written
    last2, keys2, matrix2 = store.rows_after(last)
    assert keys2 == ["c"] and float(matrix2[0, 0]) == 4.0
    assert store.rows_after(last2)[1] == []
    assert store.count() == 3
    store.close()


def test_status_without_an_index_or_a_store(tmp_path: Path, index_dir: Path) -> None:
    assert fill_status(tmp_path / "nothing", "m") == (0, 0)
    assert fill_status(index_dir, "m") == (0, 4)
