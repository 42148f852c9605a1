"""A corpus of planted secrets of many shapes (issue 11), written by the tests into a tmp folder.

Each entry is (relative path, text, the secrets it holds). Every secret carries a distinctive part
(mixed case and digits, five characters or more) so finding it by a query or on disk cannot be a
coincidence, while the secret itself may be short: `Dk4pW` is a whole password.
"""

from __future__ import annotations

import re
from pathlib import Path

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJKdDdxWm0ifQ.Jw7tSgN4xQ2vLp9mKc3bHf"
PLANTED: list[tuple[str, str, list[str]]] = [
    (
        "Dockerfile",
        "FROM python:3.12-slim\nENV DB_PASSWORD=Dk4pWz\nENV REDIS_PASSWORD Rq8sTx\n"
        'ARG DEPLOY_TOKEN=Tk5mZq\nCMD ["python", "-m", "app"]\n',
        ["Dk4pWz", "Rq8sTx", "Tk5mZq"],
    ),
    (
        "docker-compose.yml",
        "services:\n  db:\n    image: postgres:16\n    environment:\n      - POSTGRES_PASSWORD=Pg3xQv\n"
        "      - POSTGRES_USER=app\n  mysql:\n    environment:\n      MYSQL_ROOT_PASSWORD: My6rNb\n",
        ["Pg3xQv", "My6rNb"],
    ),
    (
        "docs/setup.md",
        "# Setup\n\nExport the key before starting:\n\n```bash\nexport API_KEY=sk-live-Ak9fQw\n"
        "export GITHUB_TOKEN=ghp_Gh7kLm\nPGPASSWORD=Pq2gWe psql -h db\n```\n\n"
        "In staging use sk_live_St4rPk; the maps key is AIzaSyD3mO7pQ2rS4tU6vW8x.\n"
        "The old AWS key AKIAQWERTYUI0PASDFGH was rotated.\n\n"
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUxQ\n"
        "-----END OPENSSH PRIVATE KEY-----\n",
        [
            "sk-live-Ak9fQw",
            "ghp_Gh7kLm",
            "Pq2gWe",
            "sk_live_St4rPk",
            "AIzaSyD3mO7pQ2rS4tU6vW8x",
            "AKIAQWERTYUI0PASDFGH",
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUxQ",
        ],
    ),
    (
        "config/app.json",
        '{\n  "database": {"user": "app", "password": "Js5nWr"},\n  "oauth": {"client_secret": "Cs2vBn"}\n}\n',
        ["Js5nWr", "Cs2vBn"],
    ),
    (
        "config/settings.py",
        '"""Settings."""\n\nDB_PASSWORD = "Py8qLz"\nSLACK = "xoxb-1111-Sl4ckQ"\n'
        'SESSION = "' + JWT + '"\n\n\ndef connect(password: str) -> None:\n    """Open the database."""\n',
        ["Py8qLz", "xoxb-1111-Sl4ckQ", JWT],
    ),
    (
        "db/roles.sql",
        "-- application roles\nCREATE ROLE app WITH LOGIN PASSWORD 'Sq1lPx';\n"
        "CREATE USER 'report'@'%' IDENTIFIED BY 'My1dBq';\n",
        ["Sq1lPx", "My1dBq"],
    ),
    ("config/legacy.ini", "[database]\nhost = db\npassword = In7iZk\n", ["In7iZk"]),
    (
        "deploy/run.sh",
        "#!/bin/sh\nexport SECRET_KEY=Sh3lXy\nREDIS_PASS=Rd5pSw ./serve\n",
        ["Sh3lXy", "Rd5pSw"],
    ),
    ("config/service.yaml", "service:\n  api_key: Ym4lKp\n  token: " + JWT + "\n", ["Ym4lKp"]),
    ("frontend/src/client.ts", 'const apiKey = "Ts6kPn";\nexport const client = { apiKey };\n', ["Ts6kPn"]),
    ("docs/connect.md", "# Connect\n\nUse `postgresql://app:Ur9lPq@db:5432/app`.\n", ["Ur9lPq"]),
    (".env", "ANTHROPIC_API_KEY=sk-ant-Ev9nVxQw\n", ["sk-ant-Ev9nVxQw"]),
]
SECRETS = sorted({s for _, _, secrets in PLANTED for s in secrets})


def distinctive(secret: str) -> list[str]:
    """The parts of a secret that only it would put into an index: its alphanumeric runs of five
    characters or more that mix letters and digits (what BM25 would keep as a term)."""
    runs = [r for r in re.findall(r"[A-Za-z0-9]+", secret) if len(r) >= 5]
    return [r for r in runs if re.search(r"\d", r) and re.search(r"[A-Za-z]", r)] or [secret]


def write_planted(root: Path) -> Path:
    for rel, text, _ in PLANTED:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def found_on_disk(index_dir: Path) -> list[tuple[str, str]]:
    """(secret, file) for every secret part found in any file under the index folder: the
    catalog with its WAL, the embedding cache, Chroma's sqlite and segments, the BM25 files."""
    hits = []
    for path in sorted(index_dir.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        lowered = data.lower()
        for secret in SECRETS:
            for part in distinctive(secret):
                if part.encode() in data or part.lower().encode() in lowered:
                    hits.append((secret, str(path.relative_to(index_dir))))
    return hits
