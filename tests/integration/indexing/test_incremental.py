"""Incremental builds with the real embedder: first build, no-op re-run, change, add, delete, touch."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from indexing import builder as builder_module
from indexing.builder import BuildLockedError, BuildOptions, IndexBuilder
from indexing.lexical import tokenize

from .conftest import BuilderFactory, bm25_entries, ranked, view
from .platform_repo import FILES, write_tree

N_FILES = len(FILES)


def _file_lines(source: Path, rel: str) -> list[str]:
    return (source / rel).read_text(encoding="utf-8").splitlines()


def test_first_build(source: Path, index_dir: Path, make_builder: BuilderFactory) -> None:
    stats = make_builder().build(source)
    v = view(index_dir)
    assert (stats.files_seen, stats.files_changed, stats.files_unchanged, stats.files_deleted) == (
        N_FILES,
        N_FILES,
        0,
        0,
    )
    assert set(v.files) == set(FILES)
    assert v.paths() == set(FILES)
    assert stats.chunks_total == stats.chunks_written == len(v.chunks)
    assert stats.dense_units == len(v.dense) > N_FILES  # a card per file plus definition cards
    assert v.vectors == set(v.dense)
    assert stats.embedded > 0 and stats.embed_cache_hits == 0
    assert v.generation == 1
    assert v.bm25_references() == bm25_entries(index_dir)
    # every stored chunk is exactly the lines it cites
    for path, start, end, text in v.chunks.values():
        assert text == "\n".join(_file_lines(source, path)[start - 1 : end])
    assert stats.skipped == {}


def test_rerun_with_nothing_changed_embeds_nothing(
    source: Path, index_dir: Path, make_builder: BuilderFactory, make_retriever: Callable[..., Any]
) -> None:
    make_builder().build(source)
    before = view(index_dir)
    answer = ranked(make_retriever(), "kinds of meeting rooms")
    stats = make_builder().build(source)
    after = view(index_dir)
    assert (stats.files_changed, stats.files_unchanged, stats.files_deleted) == (0, N_FILES, 0)
    assert (stats.chunks_written, stats.embedded, stats.embed_cache_hits) == (0, 0, 0)
    assert after.chunks == before.chunks
    assert after.dense == before.dense
    assert after.vectors == before.vectors
    assert after.files == before.files
    assert after.state["bm25_base"] == before.state["bm25_base"]
    assert after.generation == before.generation + 1
    assert ranked(make_retriever(), "kinds of meeting rooms") == answer


def test_changing_one_file_rechunks_only_that_file(
    source: Path, index_dir: Path, make_builder: BuilderFactory, make_retriever: Callable[..., Any]
) -> None:
    make_builder().build(source)
    before = view(index_dir)
    track = source / "domain" / "track.py"
    track.write_text(
        track.read_text()
        + "\n    def archive(self) -> None:\n"
        + '        """Archived tracks keep their certificates but accept no new enrollments."""\n'
        + '        self.status = "archived"\n'
    )
    stats = make_builder().build(source)
    after = view(index_dir)
    assert (stats.files_changed, stats.files_unchanged) == (1, N_FILES - 1)
    assert after.files["domain/track.py"] != before.files["domain/track.py"]
    assert {p: h for p, h in after.files.items() if p != "domain/track.py"} == {
        p: h for p, h in before.files.items() if p != "domain/track.py"
    }
    # other files keep exactly their chunks; the changed file's chunks are all it wrote
    unchanged = {cid: c for cid, c in before.chunks.items() if c[0] != "domain/track.py"}
    assert {cid: c for cid, c in after.chunks.items() if c[0] != "domain/track.py"} == unchanged
    new_track = {cid for cid, c in after.chunks.items() if c[0] == "domain/track.py"}
    assert stats.chunks_written == len(new_track)
    # the class header did not change: its card came from the cache; the file card is new
    assert stats.embed_cache_hits > 0
    assert stats.embedded >= 1
    assert after.vectors == set(after.dense)
    assert after.bm25_references() == bm25_entries(index_dir)
    top = make_retriever().retrieve("archived tracks certificates no new enrollments", k=3).chunks[0]
    assert top.path == "domain/track.py"
    assert "Track.archive" in top.symbol.split(", ")
    assert 'self.status = "archived"' in top.text


def test_adding_a_file(
    source: Path, index_dir: Path, make_builder: BuilderFactory, make_retriever: Callable[..., Any]
) -> None:
    make_builder().build(source)
    before = view(index_dir)
    write_tree(
        source,
        {
            "services/certificates.py": (
                "def issue_certificate(student_id: str, track_id: str) -> str:\n"
                '    """Issue a completion certificate once a student finished every course."""\n'
                '    return f"cert-{track_id}-{student_id}"\n'
            )
        },
    )
    stats = make_builder().build(source)
    after = view(index_dir)
    assert (stats.files_seen, stats.files_changed, stats.files_unchanged) == (N_FILES + 1, 1, N_FILES)
    assert set(after.files) == set(FILES) | {"services/certificates.py"}
    assert {cid: c for cid, c in after.chunks.items() if c[0] != "services/certificates.py"} == before.chunks
    assert after.vectors == set(after.dense)
    retriever = make_retriever()
    snap = retriever.reader.snapshot()
    assert snap.generation == 2
    (new_chunk,) = snap.chunks_by_path["services/certificates.py"]
    assert new_chunk.symbol == "issue_certificate"
    # the lexical index of the new generation ranks the new chunk first for its own words
    best_id, _ = snap.lexical.search(tokenize("completion certificate for a student"), 5)[0]
    assert best_id == new_chunk.id
    found = retriever.retrieve("completion certificate for a student", k=N_FILES + 1).chunks
    assert "services/certificates.py" in [c.path for c in found]


def test_deleting_a_file_removes_its_chunks_and_vectors(
    source: Path, index_dir: Path, make_builder: BuilderFactory, make_retriever: Callable[..., Any]
) -> None:
    make_builder().build(source)
    before = view(index_dir)
    gone = "docs/workflows.md"
    assert gone in before.paths() and gone in before.dense.values()
    (source / gone).unlink()
    retriever = make_retriever()
    stats = make_builder().build(source)
    after = view(index_dir)
    assert (stats.files_deleted, stats.files_changed) == (1, 0)
    assert gone not in after.files
    assert gone not in after.paths()
    assert gone not in after.dense.values()
    assert after.vectors == set(after.dense)
    assert {cid for cid, c in before.chunks.items() if c[0] == gone}.isdisjoint(after.chunks)
    assert after.chunks == {cid: c for cid, c in before.chunks.items() if c[0] != gone}
    assert after.bm25_references() == bm25_entries(index_dir)
    # the workflow doc's own words no longer find it, with the old reader or a new one
    for r in (retriever, make_retriever()):
        assert gone not in [p for p, _, _ in ranked(r, "steps to onboard a new instructor invitation", k=10)]


def test_touching_a_file_without_changing_it(
    source: Path, index_dir: Path, make_builder: BuilderFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_builder().build(source)
    before = view(index_dir)
    path = source / "config" / "limits.yaml"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    reads: list[str] = []
    real_read = builder_module.read_source  # type: ignore[attr-defined]  # patched below

    def counting_read(candidate, report):  # type: ignore[no-untyped-def]
        reads.append(candidate.path)
        return real_read(candidate, report)

    monkeypatch.setattr(builder_module, "read_source", counting_read)
    stats = make_builder().build(source)
    assert reads == ["config/limits.yaml"]  # read once to compare its content...
    assert (stats.files_changed, stats.files_unchanged, stats.chunks_written, stats.embedded) == (
        0,
        N_FILES,
        0,
        0,
    )
    assert view(index_dir).chunks == before.chunks
    reads.clear()
    stats = make_builder().build(source)
    assert reads == []  # ...and the new modification time was remembered: not read again
    assert stats.files_unchanged == N_FILES


def test_rerun_with_test_files_included_embeds_nothing(
    source: Path, index_dir: Path, make_builder: BuilderFactory
) -> None:
    write_tree(
        source,
        {
            f"tests/test_{n}.py": f"def test_{n}():\n    assert {n}_works()\n"
            for n in ("tracks", "rooms", "limits")
        },
    )
    first = make_builder(include_tests=True).build(source)
    assert first.files_changed == N_FILES + 3
    before = view(index_dir)
    stats = make_builder(include_tests=True).build(source)
    assert (stats.files_changed, stats.embedded, stats.embed_cache_hits) == (0, 0, 0)
    assert view(index_dir).dense == before.dense


def test_a_second_concurrent_build_is_refused(
    source: Path, index_dir: Path, make_builder: BuilderFactory
) -> None:
    make_builder().build(source)
    first = make_builder()
    refused: list[BaseException] = []

    def second_build() -> None:  # runs while the first build holds the lock
        with pytest.raises(BuildLockedError, match="another build"):
            make_builder().build(source)
        refused.append(BuildLockedError())

    first.before_commit = second_build
    (source / "docs" / "api.md").write_text("# Tracks API\n\nChanged.\n")
    stats = first.build(source)
    assert refused and stats.files_changed == 1
    assert view(index_dir).generation == 2
    make_builder().build(source)  # the lock is released afterwards
    assert view(index_dir).generation == 3


def test_a_missing_source_is_an_error(index_dir: Path, make_builder: BuilderFactory, tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        make_builder().build(tmp_path / "nowhere")


class _RenamedModel:
    """The real model under another id: to the index, a different embedding space."""

    model_id = "another-model"

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.dimension = inner.dimension

    def count_tokens(self, text: str) -> int:
        return int(self.inner.count_tokens(text))

    def count_line_tokens(self, lines: list[str]) -> list[int]:
        return list(self.inner.count_line_tokens(lines))

    def embed(self, texts: Any, progress: Any = None) -> Any:
        return self.inner.embed(texts, progress)


def test_a_new_embedding_model_re_embeds_every_vector(
    source: Path,
    index_dir: Path,
    make_builder: BuilderFactory,
    embedder: Any,
    make_retriever: Callable[..., Any],
) -> None:
    first = make_builder().build(source)
    before = view(index_dir)
    renamed = IndexBuilder(index_dir, lambda: _RenamedModel(embedder), BuildOptions(workers=1))
    stats = renamed.build(source)
    after = view(index_dir)
    assert after.state["model_id"] == "another-model"
    assert stats.files_changed == 0
    assert stats.embedded == first.embedded  # nothing from the old model's cache
    assert after.dense == before.dense and after.vectors == set(after.dense)
    hits = make_retriever().retrieve("What kinds of rooms can be reserved for live sessions?", k=1).chunks
    assert hits[0].path == "migrations/0003_meeting_rooms.sql"


def test_an_index_made_by_older_redaction_rules_is_reprocessed_once(
    tmp_path: Path, index_dir: Path, make_builder: BuilderFactory
) -> None:
    """A secret the old rules let through must not stay indexed because its file did not change:
    an index whose processing version differs re-reads every file once (embeddings stay cached)."""
    import sqlite3

    source = tmp_path / "platform"
    write_tree(source, FILES)
    write_tree(source, {"deploy/Dockerfile": "FROM python:3.12\nENV DB_PASSWORD=Ol5dPw\n"})
    make_builder().build(source)
    # what an index built before this version looked like: no version, the secret in clear
    db = sqlite3.connect(index_dir / "catalog.sqlite")
    db.execute("DELETE FROM state WHERE key = 'processing_version'")
    db.execute("UPDATE chunks SET text = replace(text, '[REDACTED]', 'Ol5dPw')")
    db.commit()
    db.close()
    assert any("Ol5dPw" in text for _, _, _, text in view(index_dir).chunks.values())

    stats = make_builder().build(source)
    assert stats.files_changed == N_FILES + 1
    assert stats.embedded == 0  # same texts as before: every vector came from the cache
    assert not any("Ol5dPw" in text for _, _, _, text in view(index_dir).chunks.values())
    again = make_builder().build(source)
    assert (again.files_changed, again.files_unchanged) == (0, N_FILES + 1)
