"""The index on a Chroma server (HttpClient) instead of the embedded store: a real `chroma run`
process on a free loopback port, started by the test."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.retrieval.hybrid import HybridRetriever
from app.retrieval.index_reader import IndexReader
from indexing.builder import BuildOptions, IndexBuilder
from indexing.embedder import MiniLMEmbedder
from indexing.vector_store import (
    STATE_KEY,
    VectorLocation,
    VectorLocationError,
    VectorStore,
    VectorStoreUnavailableError,
)

from .conftest import BuilderFactory

CHROMA = Path(sys.executable).parent / "chroma"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    if not CHROMA.exists() or shutil.which(str(CHROMA)) is None:
        pytest.skip("the chroma CLI is not installed in this environment")
    port = _free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen(
        [
            str(CHROMA),
            "run",
            "--path",
            str(tmp_path / "server-data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("the Chroma server did not start")
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def test_build_and_search_with_vectors_on_a_chroma_server(
    chroma_server: int, source: Path, index_dir: Path, embedder: MiniLMEmbedder
) -> None:
    options = BuildOptions(
        workers=1, chroma_host="127.0.0.1", chroma_port=chroma_server, collection="it-server"
    )
    stats = IndexBuilder(index_dir, lambda: embedder, options).build(source)
    assert stats.dense_units > 0

    # The vectors live on the server, not in the index folder.
    assert not (index_dir / "chroma").exists()
    remote = VectorStore(index_dir, "it-server", "127.0.0.1", chroma_server)
    assert remote.count() == stats.dense_units

    reader = IndexReader(index_dir, "it-server", "127.0.0.1", chroma_server)
    result = HybridRetriever(reader, lambda: embedder).retrieve("enroll students in a track by email", k=3)
    assert result.chunks
    assert any("dense" in c.scores or "file_card" in c.scores for c in result.chunks)

    # A second build against the same server reuses the vectors it already holds.
    again = IndexBuilder(index_dir, lambda: embedder, options).build(source)
    assert again.embedded == 0
    assert remote.count() == stats.dense_units

    # Read without CHROMA_HOST: a clear error that says what to set, and no local store is made.
    with pytest.raises(VectorLocationError, match=f"CHROMA_HOST=127.0.0.1 and CHROMA_PORT={chroma_server}"):
        HybridRetriever(IndexReader(index_dir, "it-server"), lambda: embedder).retrieve("enroll students")
    assert not (index_dir / "chroma").exists()


def _as_if_built_on_a_server(index_dir: Path, port: int) -> None:
    """Record in the catalog that the vectors live on a Chroma server at 127.0.0.1:port, as a
    build with CHROMA_HOST set records it (the local store the embedded build made goes)."""
    db = sqlite3.connect(index_dir / "catalog.sqlite")
    where = VectorLocation("server", "codebase", "127.0.0.1", port)
    db.execute("UPDATE state SET value = ? WHERE key = ?", (where.to_state(), STATE_KEY))
    db.commit()
    db.close()
    shutil.rmtree(index_dir / "chroma")


def test_a_chroma_server_that_is_down_degrades_retrieval_to_bm25_with_a_warning(
    source: Path, index_dir: Path, make_builder: BuilderFactory, embedder: MiniLMEmbedder
) -> None:
    """Issue 11: with CHROMA_HOST set and the server down, every chat turn failed with "Could not
    connect to a Chroma server". Nothing listens on the port here."""
    make_builder().build(source)
    port = _free_port()
    _as_if_built_on_a_server(index_dir, port)
    now = [1000.0]
    reader = IndexReader(index_dir, "codebase", "127.0.0.1", port, clock=lambda: now[0])
    retriever = HybridRetriever(reader, lambda: embedder)

    result = retriever.retrieve("enroll students in a track by email", k=3)

    assert result.chunks  # answered, from BM25 alone: as a retriever without dense search answers
    bm25_only = HybridRetriever(IndexReader(index_dir), None).retrieve(
        "enroll students in a track by email", k=3
    )
    assert [c.chunk_id for c in result.chunks] == [c.chunk_id for c in bm25_only.chunks]
    assert bm25_only.warnings == ()
    assert all("dense" not in c.scores and "file_card" not in c.scores for c in result.chunks)
    assert len(result.warnings) == 1
    assert "CHROMA_HOST=127.0.0.1" in result.warnings[0]
    assert f"127.0.0.1:{port}" in result.warnings[0]
    assert "BM25" in result.warnings[0]
    # the next turns do not wait on the dead server, and keep the warning
    again = retriever.retrieve("publish a track", k=3)
    assert again.chunks and again.warnings == result.warnings
    now[0] += 31  # after the reconnect interval it is tried again (still down)
    assert retriever.retrieve("publish a track", k=3).warnings == result.warnings
    assert not (index_dir / "chroma").exists()


def test_the_service_answers_with_the_warning_when_the_server_is_down(
    source: Path, index_dir: Path, make_builder: BuilderFactory, embedder: MiniLMEmbedder
) -> None:
    """What the chat turn and the search page call: a result with the warning, not an exception."""
    from app.config import Settings
    from app.retrieval.service import RetrievalService

    make_builder().build(source)
    port = _free_port()
    _as_if_built_on_a_server(index_dir, port)
    settings = Settings(index_dir=index_dir, chroma_host="127.0.0.1", chroma_port=port)
    reader = IndexReader(index_dir, "codebase", "127.0.0.1", port)
    service = RetrievalService(settings, HybridRetriever(reader, lambda: embedder))
    result = service.search("enroll students in a track", 3)
    assert result is not None and result.chunks
    assert result.warnings and "CHROMA_HOST" in result.warnings[0]
    assert service.search_dicts("enroll students in a track", 3)


def test_an_index_on_a_server_read_without_chroma_host_is_a_clear_error(
    source: Path, index_dir: Path, make_builder: BuilderFactory, embedder: MiniLMEmbedder
) -> None:
    """Issue 11: it silently answered from BM25 alone and left an empty local Chroma folder."""
    make_builder().build(source)
    port = _free_port()
    _as_if_built_on_a_server(index_dir, port)
    retriever = HybridRetriever(IndexReader(index_dir), lambda: embedder)
    with pytest.raises(VectorLocationError) as err:
        retriever.retrieve("enroll students in a track", k=3)
    message = str(err.value)
    assert f"the Chroma server at 127.0.0.1:{port}" in message
    assert f"set CHROMA_HOST=127.0.0.1 and CHROMA_PORT={port}" in message
    assert not (index_dir / "chroma").exists()


def test_an_embedded_index_read_with_chroma_host_is_a_clear_error(
    source: Path, index_dir: Path, make_builder: BuilderFactory, embedder: MiniLMEmbedder
) -> None:
    make_builder().build(source)
    reader = IndexReader(index_dir, "codebase", "127.0.0.1", _free_port())
    with pytest.raises(VectorLocationError, match="unset CHROMA_HOST"):
        HybridRetriever(reader, lambda: embedder).retrieve("enroll students in a track", k=3)
    other = IndexReader(index_dir, "another")
    with pytest.raises(VectorLocationError, match="CHROMA_COLLECTION=codebase"):
        HybridRetriever(other, lambda: embedder).retrieve("enroll students in a track", k=3)


def test_an_index_recorded_before_the_structured_location_is_still_checked() -> None:
    legacy_server = {"vector_location": "chroma server db.internal:8001, collection docs"}
    assert VectorLocation.recorded(legacy_server) == VectorLocation("server", "docs", "db.internal", 8001)
    legacy_local = {"vector_location": "/srv/index/chroma (embedded), collection codebase"}
    assert VectorLocation.recorded(legacy_local) == VectorLocation("embedded", "codebase")
    assert VectorLocation.recorded({}) is None


def test_a_build_into_a_server_that_is_down_names_chroma_host(
    source: Path, index_dir: Path, embedder: MiniLMEmbedder
) -> None:
    port = _free_port()
    options = BuildOptions(workers=1, chroma_host="127.0.0.1", chroma_port=port)
    with pytest.raises(VectorStoreUnavailableError, match=f"CHROMA_HOST=127.0.0.1, CHROMA_PORT={port}"):
        IndexBuilder(index_dir, lambda: embedder, options).build(source)
    assert not (index_dir / "chroma").exists()


def test_the_cli_names_chroma_host_when_the_server_is_down(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from indexing.__main__ import main

    port = _free_port()
    monkeypatch.setenv("INDEX_DIR", str(tmp_path / "cli-index"))
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(port))
    assert main(["build", "--quiet", str(source)]) == 2
    err = capsys.readouterr().err
    assert f"CHROMA_HOST=127.0.0.1, CHROMA_PORT={port}" in err
    assert "Traceback" not in err


def test_indexing_query_prints_the_warning_and_answers_from_bm25(
    source: Path,
    index_dir: Path,
    make_builder: BuilderFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from indexing.__main__ import main

    make_builder().build(source)
    port = _free_port()
    _as_if_built_on_a_server(index_dir, port)
    monkeypatch.setenv("INDEX_DIR", str(index_dir))
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(port))
    assert main(["query", "enroll students in a track"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(" 1. ") and "bm25=" in out
    assert "warning: " in err and f"127.0.0.1:{port}" in err and "CHROMA_HOST" in err


def test_a_chat_turn_carries_the_warning_to_its_context_and_the_read_model(
    source: Path, index_dir: Path, make_builder: BuilderFactory, embedder: MiniLMEmbedder
) -> None:
    """The warning reaches the user: on the turn's context event (the dashboard's context panel and
    the WebSocket `context` frame draw it) and in the read model a reload is drawn from."""
    from types import SimpleNamespace

    from app.api.frames import FrameWriter
    from app.config import Settings
    from app.conversation.turn import _retrieve
    from app.conversation.view import fold
    from app.retrieval.service import RetrievalService

    make_builder().build(source)
    port = _free_port()
    _as_if_built_on_a_server(index_dir, port)
    settings = Settings(index_dir=index_dir, chroma_host="127.0.0.1", chroma_port=port)
    reader = IndexReader(index_dir, "codebase", "127.0.0.1", port)
    deps = SimpleNamespace(
        retrieval=RetrievalService(settings, HybridRetriever(reader, lambda: embedder)), settings=settings
    )
    event, packed = _retrieve(deps, "c1", "enroll students in a track")  # type: ignore[arg-type]
    assert event.chunks and packed
    assert len(event.warnings) == 1 and f"127.0.0.1:{port}" in event.warnings[0]
    stored = {**event.to_dict(), "turn_id": "t1", "seq": 1}
    assert fold([stored]).retrieval_warnings == event.warnings
    [frame] = FrameWriter().frames(stored)
    assert frame["type"] == "context" and frame["warnings"] == event.warnings
