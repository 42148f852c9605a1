"""The campaign's index parts (issue 11): planted secrets and bad corpora through real builds.

- secrets: a corpus of planted secrets of many shapes (secret-named assignments of every length in
  every file kind, keys known by their prefixes, private key blocks, URL credentials) is indexed;
  every secret is then searched for by queries (the secret, its distinctive parts, its context)
  and by reading every file under the index folder (catalog and its WAL, the embedding cache,
  Chroma's sqlite and segments, the BM25 files). Found by a query and found on disk must be 0.
- corpora: a corpus of bad files (names that are not UTF-8, binaries under source extensions,
  huge lines of one repeated word, broken and foreign encodings, empty and blank files, symlink
  loops, unreadable files and folders, a YAML alias bomb, deeply nested JSON and Python) is built
  several times (first build, incremental, forced, and once through `python -m indexing build`).
  Builds aborted must be 0; the files skipped are printed by reason.

Every secret and file is generated here, in a temporary folder.
"""

from __future__ import annotations

import os
import random
import re
import string
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.campaign import ROOT, Figures


def _token(rng: random.Random, n: int) -> str:
    """A distinctive value: mixed case and digits, so finding it is never a coincidence."""
    while True:
        value = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))
        if re.search(r"\d", value) and re.search(r"[a-z]", value) and re.search(r"[A-Z]", value):
            return value


# (file, line template) for secret-named assignments; {v} is the secret, of any length.
ASSIGNMENTS: list[tuple[str, str]] = [
    ("Dockerfile", "ENV DB_PASSWORD={v}"),
    ("Dockerfile", "ENV REDIS_PASSWORD {v}"),
    ("Dockerfile", "ARG DEPLOY_TOKEN={v}"),
    ("docker-compose.yml", "      - POSTGRES_PASSWORD={v}"),
    ("docker-compose.yml", "      MYSQL_ROOT_PASSWORD: {v}"),
    ("docker-compose.yml", '      SMTP_PASSWORD: "{v}"'),
    ("docs/setup.md", "    export API_KEY={v}"),
    ("docs/setup.md", "Run `PGPASSWORD={v} psql -h db` to connect."),
    ("docs/setup.md", "docker run -e REDIS_PASS={v} cache"),
    ("deploy/run.sh", 'export SECRET_KEY="{v}"'),
    ("deploy/run.sh", "mysql --password={v} -e 'select 1'"),
    ("config/app.json", '  "password": "{v}",'),
    ("config/app.json", '  "client_secret": "{v}",'),
    ("config/service.yaml", "  api_key: {v}"),
    ("config/service.yaml", "  db_password: '{v}'"),
    ("config/legacy.ini", "password = {v}"),
    ("config/app.properties", "mail.smtp.password={v}"),
    ("pyproject.toml", 'token_secret = "{v}"'),
    ("app/settings.py", 'DB_PASSWORD = "{v}"'),
    ("app/settings.py", "client = connect(password='{v}')"),
    ("web/src/client.ts", 'const apiKey = "{v}";'),
    ("db/roles.sql", "CREATE ROLE app WITH LOGIN PASSWORD '{v}';"),
    ("db/roles.sql", "CREATE USER 'report'@'%' IDENTIFIED BY '{v}';"),
    ("docs/connect.md", "Use postgresql://app:{v}@db:5432/app for local runs."),
    ("web/index.html", "<!-- API_KEY={v} -->"),
]
# Keys recognised by their prefix, wherever they stand (prose, code, config).
PREFIXED: list[tuple[str, str]] = [
    ("sk-live-", "docs/keys.md"),
    ("sk-test-", "docs/keys.md"),
    ("sk-proj-", "app/llm.py"),
    ("sk-ant-api03-", "app/llm.py"),
    ("sk_live_", "docs/billing.md"),
    ("sk_test_", "docs/billing.md"),
    ("rk_live_", "docs/billing.md"),
    ("ghp_", "docs/ci.md"),
    ("github_pat_", "docs/ci.md"),
    ("glpat-", "docs/ci.md"),
    ("xoxb-", "docs/chat.md"),
    ("xapp-", "docs/chat.md"),
    ("AIza", "web/src/maps.ts"),
    ("hf_", "docs/models.md"),
]


def planted_corpus(root: Path, seed: int = 11) -> list[str]:
    """Write the planted corpus under `root`; return every secret planted."""
    rng = random.Random(seed)
    files: dict[str, list[str]] = {}
    secrets: list[str] = []
    for length in (2, 3, 5, 8, 16):
        for rel, template in ASSIGNMENTS:
            value = (
                _token(rng, length)
                if length >= 3
                else rng.choice(string.ascii_letters) + rng.choice("0123456789")
            )
            files.setdefault(rel, []).append(template.format(v=value))
            secrets.append(value)
    for prefix, rel in PREFIXED:
        for length in (6, 24):
            value = prefix + _token(rng, length)
            files.setdefault(rel, []).append(f"The key {value} is for the demo project.")
            secrets.append(value)
    aws = "AKIA" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    jwt = "eyJhbGciOiJIUzI1NiJ9." + _token(rng, 24) + "." + _token(rng, 30)
    body = _token(rng, 40)
    files.setdefault("docs/keys.md", []).extend(
        [f"AWS: {aws}", f"Authorization: Bearer {jwt}", "", "-----BEGIN RSA PRIVATE KEY-----", body,
         "-----END RSA PRIVATE KEY-----"]
    )  # fmt: skip
    secrets += [aws, jwt, body]
    for rel, lines in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        head = "# Notes\n\n" if rel.endswith(".md") else ""
        if rel.endswith(".json"):
            path.write_text("{\n" + "\n".join(lines) + '\n  "end": 1\n}\n', encoding="utf-8")
        elif rel == "config/service.yaml":
            path.write_text("service:\n" + "\n".join(lines) + "\n", encoding="utf-8")
        elif rel == "docker-compose.yml":
            path.write_text(
                "services:\n  db:\n    environment:\n" + "\n".join(lines) + "\n", encoding="utf-8"
            )
        else:
            path.write_text(head + "\n".join(lines) + "\n", encoding="utf-8")
    return secrets


def _distinctive(secret: str) -> list[str]:
    """What only this secret would put into an index: its long mixed runs, or itself."""
    runs = [r for r in re.findall(r"[A-Za-z0-9]+", secret) if len(r) >= 5 and re.search(r"\d", r)]
    return runs or [secret]


def secrets_campaign() -> Figures:
    from app.retrieval.hybrid import HybridRetriever
    from app.retrieval.index_reader import IndexReader
    from indexing.builder import BuildOptions, IndexBuilder
    from indexing.embedder import shared_embedder

    figures = Figures("secrets", {"found by a query": 0, "found on disk": 0})
    with tempfile.TemporaryDirectory() as tmp:
        source, index_dir = Path(tmp) / "src", Path(tmp) / "index"
        secrets = planted_corpus(source)
        embedder = shared_embedder()
        stats = IndexBuilder(index_dir, lambda: embedder, BuildOptions(workers=1)).build(source)
        retriever = HybridRetriever(IndexReader(index_dir), lambda: embedder)
        found_by_query: set[str] = set()
        for secret in secrets:
            # short secrets (two or three characters) may occur by chance in other text: they
            # count when the chunk holds them as a whole token
            pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])")
            for query in {secret, *_distinctive(secret), f"password api key token {secret}"}:
                figures.calls += 1
                for chunk in retriever.retrieve(query, k=20, chunks_per_file=10).chunks:
                    if pattern.search(chunk.text):
                        found_by_query.add(secret)
        on_disk: set[str] = set()
        for path in index_dir.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                lowered = data.lower()
                for secret in secrets:
                    if len(secret) < 5:  # two bytes occur anywhere in binary files: checked by query
                        continue
                    for part in _distinctive(secret):
                        if part.encode() in data or part.lower().encode() in lowered:
                            on_disk.add(secret)
        figures.add("found by a query", len(found_by_query))
        figures.add("found on disk", len(on_disk))
        figures.info["secrets planted"] = len(secrets)
        figures.info["redactions"] = stats.redactions
        figures.info["checked on disk (5+ chars)"] = sum(len(s) >= 5 for s in secrets)
        if found_by_query or on_disk:
            figures.info["examples"] = sorted(found_by_query | on_disk)[:5]
    return figures


# --- corpora: files that must never stop a build ---------------------------------------------
def bad_corpus(root: Path) -> dict[str, int]:
    """Write a tree of bad files under `root`; return how many of each shape were written."""
    shapes: dict[str, int] = {}

    def put(shape: str, rel: str | bytes, data: bytes) -> None:
        path = os.path.join(os.fsencode(root), rel if isinstance(rel, bytes) else os.fsencode(rel))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        shapes[shape] = shapes.get(shape, 0) + 1

    put("ordinary", "docs/guide.md", b"# Guide\n\nTo publish a track:\n\n1. Open it.\n2. Publish it.\n")
    put("ordinary", "app/service.py", b'def enroll(track_id: str) -> None:\n    """Enroll."""\n')
    for name in (b"notes\xff.md", b"caf\xe9.py", b"\xc3\x28bad.yaml", b"dir\xfe/readme.md"):
        put("name not UTF-8", b"names/" + name, b"# Title\n\nSome text.\n")
    put("binary", "bin/native.py", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)
    put("binary", "bin/image.md", b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000)
    put("binary", "bin/zeros.json", b"\x00" * 4096)
    for word, rel in ((b"spam ", "long/wall.md"), (b"x", "long/x.txt"), (b"token ", "long/loop.py"),
                      (b"a: ", "long/keys.yaml"), (b"[1,", "long/array.json"), (b"SELECT 1; ", "long/q.sql")):  # fmt: skip
        put("huge repeated-word line", rel, word * (300_000 // len(word)) + b"\n")
    put("huge repeated-word line", "long/heading.md", b"# " + b"word " * 50_000 + b"\n\ntext\n")
    put("broken encoding", "enc/latin1.py", "# Auteur: René Müller\nx = 'déjà'\n".encode("latin-1"))
    put("broken encoding", "enc/utf16.md", "# Titre\n\nÉtape un.\n".encode("utf-16"))
    put("broken encoding", "enc/cp1252.md", "# Guide \u2013 \u201cquoted\u201d\n".encode("cp1252"))
    put("broken encoding", "enc/mixed.txt", b"valid text\n\xff\xfe\xfd invalid bytes \x80\x81\nmore\n")
    put("broken encoding", "enc/truncated.md", "# Title\n\nend of a multibyte char: é".encode()[:-1])
    put("broken encoding", "enc/crlf_cr.sql", b"CREATE TABLE a (id INT);\r\rCREATE TABLE b (id INT);\r\n")
    put("empty", "empty/empty.py", b"")
    put("empty", "empty/blank.md", b"\n\n   \n\t\n")
    put("empty", "empty/bom.md", b"\xef\xbb\xbf")
    put("hostile structure", "deep/nested.json", b"[" * 100_000 + b"]" * 100_000)
    put("hostile structure", "deep/nested.py", b"x = " + b"(" * 5000 + b"1" + b")" * 5000 + b"\n")
    put("hostile structure", "deep/bomb.yaml",
        b'openapi: 3.0.0\na: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
        b"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        b"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\npaths: {}\n")  # fmt: skip
    put("hostile structure", "deep/unclosed.md", b"# A\n\n```python\n" + b"def f():\n    pass\n" * 2000)
    put("hostile structure", "deep/fences.md", b"````\n```\n~~~\n" * 3000)
    put("hostile structure", "deep/controls.md", bytes(range(1, 32)).replace(b"\n", b"") * 50 + b"\n# H\n")
    loops = root / "loops"
    loops.mkdir(exist_ok=True)
    os.symlink(".", loops / "self")
    os.symlink("..", loops / "parent")
    os.symlink("missing-target.md", loops / "dangling.md")
    os.symlink("b.md", loops / "a.md")
    os.symlink("a.md", loops / "b.md")
    shapes["symlink loop or dangling link"] = 5
    put("unreadable", "locked/secret-plan.md", b"# Plan\n\ntext\n")
    os.chmod(root / "locked" / "secret-plan.md", 0)
    put("unreadable", "locked-dir/inside.md", b"# Inside\n")
    os.chmod(root / "locked-dir", 0)
    fifo = root / "special" / "pipe.md"
    fifo.parent.mkdir(exist_ok=True)
    os.mkfifo(fifo)
    shapes["special file (FIFO)"] = 1
    put("over the size limit", "big/dump.sql", b"-- dump\n" + b"INSERT INTO t VALUES (1);\n" * 40_000)
    return shapes


def corpora_campaign() -> Figures:
    from indexing.builder import BuildOptions, IndexBuilder
    from indexing.catalog import Catalog
    from indexing.embedder import shared_embedder

    figures = Figures("corpora", {"builds aborted": 0})
    with tempfile.TemporaryDirectory() as tmp:
        source, index_dir = Path(tmp) / "src", Path(tmp) / "index"
        source.mkdir()
        shapes = bad_corpus(source)
        embedder = shared_embedder()
        skipped: dict[str, int] = {}
        builds: list[tuple[str, dict[str, Any]]] = [
            ("first", {}),
            ("incremental", {}),
            ("forced", {"force": True}),
        ]
        for label, options in builds:
            if label == "incremental":  # change a few bad files between builds
                (source / "long" / "wall.md").write_bytes(b"ham " * 80_000 + b"\n")
                (source / "enc" / "mixed.txt").write_bytes(b"\xfe\xff" * 10 + b"changed\n")
            figures.calls += 1
            try:
                stats = IndexBuilder(index_dir, lambda: embedder, BuildOptions(workers=1, **options)).build(
                    source
                )  # type: ignore[arg-type]
                skipped = dict(stats.skipped)
                figures.info[f"{label} build"] = f"{stats.files_seen} files, {stats.chunks_total} chunks"
            except Exception as exc:  # what the campaign counts: a build that did not finish
                figures.add("builds aborted")
                figures.info[f"{label} build"] = f"aborted: {type(exc).__name__}: {str(exc)[:120]}"
        figures.calls += 1
        env = {k: v for k, v in os.environ.items() if not k.startswith(("INDEX_", "CHROMA_"))}
        env.update(
            INDEX_DIR=str(Path(tmp) / "cli-index"), DATA_DIR=str(Path(tmp) / "data"), PYTHONPATH=str(ROOT)
        )
        cli = subprocess.run([sys.executable, "-m", "indexing", "build", "--quiet", str(source)],
                             capture_output=True, text=True, env=env, cwd=tmp, timeout=1200)  # fmt: skip
        if cli.returncode != 0:
            figures.add("builds aborted")
            figures.info["cli build"] = f"exit {cli.returncode}: {cli.stderr.strip().splitlines()[-1:]}"
        else:
            figures.info["cli build"] = "exit 0"
        catalog = Catalog(index_dir, readonly=True)
        try:
            indexed = sorted(catalog.files())
        finally:
            catalog.close()
        os.chmod(source / "locked-dir", 0o755)  # let the temporary folder be removed
    figures.info["bad files written by shape"] = shapes
    figures.info["skipped by reason (last build)"] = dict(sorted(skipped.items(), key=lambda x: -x[1]))
    figures.info["indexed"] = len(indexed)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        figures.info["note"] = (
            "run as root: permission bits do not stop reading, the unreadable files were read"
        )
    return figures
