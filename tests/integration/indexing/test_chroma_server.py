"""The index on a Chroma server (HttpClient) instead of the embedded store: a real `chroma run`
process on a free loopback port, started by the test."""

from __future__ import annotations

import os
import shutil
import socket
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
from indexing.vector_store import VectorStore

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
