"""No secret reaches the index: secret files are skipped, credentials inside indexed files are
redacted in chunk text, dense cards and the BM25 corpus alike, and the counts are reported."""

from __future__ import annotations

import json
from pathlib import Path

from indexing.catalog import Catalog
from indexing.lexical import tokenize
from indexing.redact import REDACTED

from .conftest import BuilderFactory, view
from .platform_repo import FILES, REDACTED_FILES, SECRET_FILES, SECRET_VALUES, write_platform


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
