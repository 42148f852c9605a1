"""Every setting of the assistant, read from the environment or a `.env` file.

One module so that the README's table of variables, the dashboard and the server all agree on the
names and defaults. Each field's description says why it exists; `python -m app.config` prints the
table the README carries (a test checks the README lists every variable).
"""

from __future__ import annotations

import contextlib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

ProviderName = Literal["auto", "anthropic", "openai", "local", "offline"]


class Settings(BaseSettings):
    """Settings with their defaults; environment variables are the upper-case field names."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # --- storage -------------------------------------------------------------------------------
    data_dir: Path = Field(
        PROJECT_ROOT / "data",
        description="Folder for everything the product writes (index, databases); git-ignored.",
    )
    index_dir: Path | None = Field(None, description="Where the search index lives. Default: DATA_DIR/index.")
    index_source: Path = Field(
        PROJECT_ROOT / "sandbox",
        description="Codebase indexed by `make run` when no index exists: the bundled sandbox platform.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the assistant's store. Default: a SQLite file in DATA_DIR; "
        "postgresql+psycopg://... for PostgreSQL.",
    )

    index_include_tests: bool = Field(
        False,
        description="Index test code too. Off: tests repeat the domain's words and crowd out the code and "
        "docs that answer platform questions.",
    )
    index_max_file_kb: int = Field(
        512,
        description="Files larger than this are skipped (data dumps, generated reports), counted in stats.",
    )

    # --- vector store --------------------------------------------------------------------------
    chroma_host: str | None = Field(
        None, description="Chroma server host. Unset: an embedded PersistentClient under INDEX_DIR."
    )
    chroma_port: int = Field(8000, description="Chroma server port, used with CHROMA_HOST.")
    chroma_collection: str = Field("codebase", description="Chroma collection name for the index.")

    # --- embedding -----------------------------------------------------------------------------
    embedding_batch_size: int = Field(
        16, description="Texts per embedding batch; 16 was fastest on 2 CPU cores."
    )
    embedding_threads: int = Field(
        0, description="onnxruntime intra-op threads for the embedder; 0 lets it use every core."
    )

    # --- retrieval -----------------------------------------------------------------------------
    retrieval_top_k: int = Field(8, description="Distinct files the retriever returns per query.")
    context_token_budget: int = Field(
        3000, description="Tokens of retrieved context packed into one LLM prompt."
    )
    history_token_budget: int = Field(
        4000, description="Tokens of earlier conversation kept verbatim before older turns are summarized."
    )

    # --- platform ------------------------------------------------------------------------------
    platform_base_url: str | None = Field(
        None,
        description="Base URL of the Course Creator Platform API (e.g. https://host/api/v1). "
        "Unset: the bundled sandbox, started in-process on a free local port.",
    )
    platform_timeout_s: float = Field(15.0, description="Timeout of one platform API call, in seconds.")
    sandbox_database_url: str | None = Field(
        None, description="Database of the in-process sandbox platform. Default: a SQLite file in DATA_DIR."
    )

    # --- LLM providers -------------------------------------------------------------------------
    llm_provider: ProviderName = Field(
        "auto",
        description="auto: anthropic if ANTHROPIC_API_KEY is set, else openai if OPENAI_BASE_URL or "
        "OPENAI_API_KEY is set, else local if LOCAL_MODEL_PATH is set, else offline (no LLM).",
    )
    anthropic_api_key: SecretStr | None = Field(None, description="Anthropic API key.")
    anthropic_model: str = Field(
        "claude-sonnet-5-5",
        description="Anthropic model id; Claude Sonnet 5.5 is the current mid-tier model (fast, tools).",
    )
    anthropic_base_url: str | None = Field(
        None, description="Override of the Anthropic API address (a proxy or gateway)."
    )
    openai_api_key: SecretStr | None = Field(
        None, description="OpenAI key; any non-empty value for servers that need none."
    )
    openai_base_url: str | None = Field(
        None,
        description="OpenAI-compatible server (vLLM, Ollama, llama.cpp), e.g. http://localhost:11434/v1.",
    )
    openai_model: str = Field(
        "gpt-5.5",
        description="Model name sent to the OpenAI-compatible server (for Ollama/vLLM: the model it serves).",
    )
    local_model_path: Path | None = Field(
        None, description="Folder of a Hugging Face causal LM for the local transformers provider."
    )
    llm_timeout_s: float = Field(60.0, description="Timeout of one LLM request, in seconds.")
    llm_max_retries: int = Field(3, description="Retries with backoff on 429/529/5xx/timeouts.")
    llm_max_tokens: int = Field(
        4096,
        description="Output tokens one model call may produce; current Claude and GPT models count "
        "their thinking in it, so it is not set low.",
    )
    max_turn_steps: int = Field(
        6, description="Model calls one user turn may make (tool loops are bounded by this)."
    )

    # --- dashboard -----------------------------------------------------------------------------
    dashboard_host: str = Field(
        "127.0.0.1",
        description="Interface the dashboard (`make run`) listens on; 0.0.0.0 exposes it to the network.",
    )
    dashboard_port: int = Field(8501, description="Port of the dashboard.")

    # --- assistant service (WebSocket + HTTP API, widget, demo) -----------------------------------
    assistant_host: str = Field(
        "127.0.0.1",
        description="Interface the assistant service (`make serve`) listens on; 0.0.0.0 exposes it.",
    )
    assistant_port: int = Field(8011, description="Port of the assistant service (the design note's 8011).")
    assistant_workers: int = Field(
        1,
        description="Worker processes behind the one port; more than 1 needs REDIS_URL (events cross workers there).",
    )
    assistant_tls_cert: Path | None = Field(
        None, description="TLS certificate (PEM) for wss:// and https://; with ASSISTANT_TLS_KEY."
    )
    assistant_tls_key: Path | None = Field(
        None, description="TLS private key (PEM), used with ASSISTANT_TLS_CERT."
    )
    ws_max_frame_kb: int = Field(
        64, description="Largest WebSocket frame a client may send; larger ones get an error frame."
    )
    auth_cache_seconds: int = Field(
        30, description="How long a verified platform token is trusted before /users/me is asked again."
    )

    # --- approvals -----------------------------------------------------------------------------
    action_ttl_minutes: int = Field(
        30, description="Minutes a proposed action waits for approval before it expires."
    )
    platform_idempotency_window_hours: float = Field(
        24.0,
        gt=0,
        description="How long the platform remembers an Idempotency-Key. Retrying a failed action "
        "later than this first looks for what the first attempt may have created (or refuses).",
    )

    # --- usage and limits ----------------------------------------------------------------------
    pricing_file: Path = Field(
        PROJECT_ROOT / "app" / "usage" / "price_overrides.json",
        description="Price overrides per million tokens (models genai-prices lacks, negotiated rates); "
        "other models get genai-prices' list prices, and a model neither knows costs null (unknown).",
    )
    user_daily_budget_usd: float = Field(
        5.0, description="LLM spend one user may make per UTC day; 0 disables the budget."
    )
    user_requests_per_minute: int = Field(
        20, description="Messages one user may send per minute; 0 disables the limit."
    )
    redis_url: str | None = Field(
        None,
        description="Redis for rate limits shared between processes (redis://127.0.0.1:6379/0). "
        "Unset: limits are kept in-process.",
    )
    redis_key_prefix: str = Field("cca:", description="Prefix of every Redis key the assistant writes.")

    # --- derived -------------------------------------------------------------------------------
    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir or self.data_dir / "index"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'assistant.db'}"

    @property
    def resolved_sandbox_database_url(self) -> str:
        return self.sandbox_database_url or f"sqlite:///{self.data_dir / 'sandbox.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own `Settings(...)` instead of using this."""
    return Settings()


def settings_markdown() -> str:
    """The README's table of environment variables, generated so it cannot drift."""
    rows = ["| variable | default | what it is for |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, Path):
            with contextlib.suppress(ValueError):
                default = default.relative_to(PROJECT_ROOT)
        shown = "" if default is None else f"`{default}`"
        rows.append(f"| `{name.upper()}` | {shown} | {field.description or ''} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_markdown())
