"""No secret reaches the index: secret files are skipped, credentials inside indexed files are
redacted in chunk text, dense cards and the BM25 corpus alike, and the counts are reported."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from app.retrieval.hybrid import HybridRetriever
from indexing.catalog import Catalog
from indexing.lexical import tokenize
from indexing.redact import REDACTED

from .conftest import BuilderFactory, view
from .planted_secrets import SECRETS, distinctive, found_on_disk, write_planted
from .platform_repo import FILES, REDACTED_FILES, SECRET_FILES, SECRET_VALUES, write_platform

RetrieverFactory = Callable[..., HybridRetriever]


def _distinctive_terms(secret: str) -> set[str]:
    """The BM25 terms only this secret would produce (its longest ones)."""
    terms = sorted(set(tokenize(secret)), key=len, reverse=True)
    return set(terms[:2])


def test_secrets_never_reach_any_store(tmp_path: Path, index_dir: Path, make_builder: BuilderFactory) -> None:
    source = write_platform(tmp_path / "platform", with_secrets=True)
    stats = make_builder().build(source)

    assert stats.skipped == {"secret file": len(SECRET_FILES)}
    assert stats.redactions == 4  # the INI password; the AWS key, URL password and key block
    v = view(index_dir)
    assert set(v.files) == set(FILES) | set(REDACTED_FILES)
    assert not set(SECRET_FILES) & set(v.files)

    catalog = Catalog(index_dir, readonly=True)
    try:
        files = catalog.files()
        assert files["config/database.ini"].redactions == 1
        assert files["deploy/settings.py"].redactions == 3
        assert sum(f.redactions for f in files.values()) == 4
        chunks = list(catalog.chunks())
        dense_texts = [u.text for u in catalog.dense_units()]
        skipped = catalog.skipped()
        delta = catalog.state("bm25_delta")
    finally:
        catalog.close()
    assert skipped["secret file"][0] == 4
    assert set(skipped["secret file"][1]) == set(SECRET_FILES)

    corpus_terms = {t for c in chunks for t in c.terms}
    texts = [c.text for c in chunks] + dense_texts
    for secret in SECRET_VALUES:
        assert not any(secret in t for t in texts), secret
        assert not any(secret.lower() in t.lower() for t in texts), secret
        assert not _distinctive_terms(secret) & corpus_terms, secret
    # and nowhere on disk: catalog (with its WAL), embedding cache, Chroma, the BM25 files
    vocab = set(json.loads((index_dir / v.state["bm25_base"] / "vocab.index.json").read_text()))
    assert not delta
    for secret in SECRET_VALUES:
        assert not _distinctive_terms(secret) & vocab, secret
    for path in index_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in SECRET_VALUES:
                assert secret.encode() not in data, (secret, path)


def test_redacted_chunks_keep_their_line_numbers(
    tmp_path: Path, index_dir: Path, make_builder: BuilderFactory
) -> None:
    source = write_platform(tmp_path / "platform", with_secrets=True)
    make_builder().build(source)
    original = (source / "deploy" / "settings.py").read_text().splitlines()
    catalog = Catalog(index_dir, readonly=True)
    try:
        chunks = [c for c in catalog.chunks() if c.path == "deploy/settings.py"]
    finally:
        catalog.close()
    assert chunks
    for c in chunks:
        lines = c.text.split("\n")
        assert len(lines) == c.end_line - c.start_line + 1
        for offset, line in enumerate(lines):
            source_line = original[c.start_line - 1 + offset]
            if REDACTED in line:
                assert line != source_line
            elif line != source_line:  # the rest of a redacted key block: blank, not removed
                assert line == "" and "-----BEGIN" not in source_line
    joined = "\n".join(c.text for c in chunks)
    assert 'AWS_ACCESS_KEY_ID = "[REDACTED]"' in joined
    assert "postgresql://platform:[REDACTED]@db.internal:5432/platform" in joined
    assert "SIGNING_KEY = '''\n[REDACTED]\n\n\n'''" in joined


def test_planted_secrets_of_many_shapes_are_found_by_no_query_and_nowhere_on_disk(
    tmp_path: Path, index_dir: Path, make_builder: BuilderFactory, make_retriever: RetrieverFactory
) -> None:
    """Issue 11: `ENV DB_PASSWORD=...` in a Dockerfile, `- POSTGRES_PASSWORD=...` in a compose
    file, `export API_KEY=sk-live-...` in Markdown, passwords under six characters, keys known by
    their prefixes: none may be found by a query or by reading the index's files."""
    source = write_planted(write_platform(tmp_path / "platform"))
    stats = make_builder().build(source)
    assert stats.skipped == {"secret file": 1}  # .env is never read
    assert stats.redactions >= len(SECRETS) - 1

    retriever = make_retriever()
    found_by_query = []
    for secret in SECRETS:
        for query in (secret, *distinctive(secret), f"password token key {secret}"):
            for chunk in retriever.retrieve(query, k=20, chunks_per_file=5).chunks:
                if any(part.lower() in chunk.text.lower() for part in distinctive(secret)):
                    found_by_query.append((secret, chunk.citation))
    assert found_by_query == []
    assert found_on_disk(index_dir) == []

    # the files themselves are indexed: what surrounds each secret stays searchable
    hits = retriever.retrieve("POSTGRES_PASSWORD environment compose", k=5).chunks
    assert any(c.path == "docker-compose.yml" and "POSTGRES_PASSWORD=[REDACTED]" in c.text for c in hits)
    hits = retriever.retrieve("export API_KEY before starting", k=5).chunks
    assert any(c.path == "docs/setup.md" and "export API_KEY=[REDACTED]" in c.text for c in hits)


def test_the_planted_corpus_leaks_without_redaction(
    tmp_path: Path, index_dir: Path, make_builder: BuilderFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above can fail: with redaction switched off, the same corpus is found on disk."""
    import indexing.process as process
    from indexing.redact import Redaction

    monkeypatch.setattr(process, "redact", lambda text, kind=None: Redaction(text, 0))
    source = write_planted(write_platform(tmp_path / "platform"))
    make_builder().build(source)
    leaked = {secret for secret, _ in found_on_disk(index_dir)}
    assert leaked == set(SECRETS) - {"sk-ant-Ev9nVxQw"}  # all but the .env file's, never read
