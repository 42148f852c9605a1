"""Process settings of the sandbox platform, read from `SANDBOX_*` environment variables.

Settings are what differs between two runs of the same code (where the database lives, which
secret signs tokens, which port to listen on). The platform's business limits (projects per
organization, login rate limit, body size ...) live in `config/platform.yaml` instead, because
they describe the platform, not the process; `platform_config` points at that file.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SANDBOX_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = SANDBOX_DIR.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'sandbox.db'}"
DEFAULT_PLATFORM_CONFIG = SANDBOX_DIR / "config" / "platform.yaml"
PUBLISHED_DEVELOPMENT_SECRET = "sandbox-development-secret-change-me-0123456789abcdef"
"""The key earlier versions shipped as the default: public, so never accepted off loopback."""


class SandboxSettings(BaseSettings):
    """Every setting of the sandbox; the environment variable is `SANDBOX_` + the upper-case name."""

    model_config = SettingsConfigDict(env_prefix="SANDBOX_", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL of the platform database: a SQLite file by default, "
        "postgresql+psycopg://user:pass@host/db for PostgreSQL (same models, same rules).",
    )
    jwt_secret: SecretStr | None = Field(
        None,
        description="HS256 key that signs access tokens (anyone holding it can mint a token for any "
        "user). Unset: a random key generated on the database's first start and kept in it. "
        "Required (32+ characters) to listen on anything but a loopback address.",
    )
    token_ttl_minutes: int | None = Field(
        None,
        ge=1,
        description="Lifetime of an access token in minutes. Unset: auth.token_ttl_minutes "
        "of the platform config (60).",
    )
    host: str = Field("127.0.0.1", description="Interface `python -m sandbox serve` listens on.")
    port: int = Field(8100, ge=0, le=65535, description="Port `python -m sandbox serve` listens on.")
    seed_on_start: bool = Field(
        True,
        description="Create the schema and load the demo data when the database has no "
        "organization yet, so a first start is immediately usable.",
    )
    platform_config: Path = Field(
        DEFAULT_PLATFORM_CONFIG,
        description="YAML file of the platform's business limits (see config/platform.yaml).",
    )
    log_level: str = Field("warning", description="uvicorn log level for `serve` and `start_in_thread`.")


def settings_markdown() -> str:
    """The README's table of settings, generated from the fields so the two cannot drift."""
    rows = ["| variable | default | what it is for |", "|---|---|---|"]
    for name, field in SandboxSettings.model_fields.items():
        default = field.default
        if isinstance(default, Path):
            default = default.relative_to(SANDBOX_DIR)
        elif name == "database_url":
            default = "sqlite:///<repo>/data/sandbox.db"
        shown = "unset" if default is None else f"`{default}`"
        rows.append(f"| `SANDBOX_{name.upper()}` | {shown} | {field.description or ''} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_markdown())
