"""The settings `python -m indexing` reads: the index's own subset of the assistant's settings.

`indexing` never imports `app` (the index is built and queried without the assistant), so the
command line reads the same environment variables and `.env` file as `app.config.Settings`, with
the same names and defaults, through this smaller class. A test checks that every field here
exists in `app.config.Settings` with the same default, so the two cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class IndexSettings(BaseSettings):
    """Where the index lives, what it indexes and how it embeds (see app.config for each field's
    description in the README's table)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = PROJECT_ROOT / "data"
    index_dir: Path | None = None
    index_source: Path = PROJECT_ROOT / "sandbox"
    index_include_tests: bool = False
    index_max_file_kb: int = 512
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_collection: str = "codebase"
    embedding_batch_size: int = 16
    embedding_threads: int = 0
    retrieval_top_k: int = 8

    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir or self.data_dir / "index"
