"""The platform's business limits, loaded from `config/platform.yaml` into a typed model.

Unknown keys are rejected (`extra="forbid"`) so the YAML file can never list a limit the code
does not read: what the file says is what the platform enforces.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrganizationLimits(_Section):
    """Size limits of one organization."""

    max_projects_per_org: int = Field(100, ge=1)
    max_members_per_org: int = Field(10000, ge=1)


class AuthConfig(_Section):
    """Token lifetime, login throttling and password hashing."""

    token_ttl_minutes: int = Field(60, ge=1)
    login_max_failed_attempts: int = Field(5, ge=1)
    login_window_seconds: int = Field(300, ge=1)
    password_hash_iterations: int = Field(600_000, ge=1_000)
    min_password_length: int = Field(8, ge=1)
    verification_token_ttl_hours: int = Field(72, ge=1)


class RequestLimits(_Section):
    """Body size and page size limits of the HTTP API."""

    max_body_bytes: int = Field(1_048_576, ge=1024)
    default_page_size: int = Field(50, ge=1)
    max_page_size: int = Field(200, ge=1)


class EnrollmentLimits(_Section):
    """Limits of bulk enrollment."""

    max_emails_per_request: int = Field(100, ge=1)


class IdempotencyConfig(_Section):
    """How long Idempotency-Keys are remembered."""

    key_ttl_hours: int = Field(24, ge=1)
    in_progress_timeout_seconds: int = Field(60, ge=1)


class PlatformConfig(_Section):
    """Everything in platform.yaml; every section has defaults so a partial file is valid."""

    organizations: OrganizationLimits = OrganizationLimits()
    auth: AuthConfig = AuthConfig()
    requests: RequestLimits = RequestLimits()
    enrollment: EnrollmentLimits = EnrollmentLimits()
    idempotency: IdempotencyConfig = IdempotencyConfig()


def load_platform_config(path: Path) -> PlatformConfig:
    """Read and validate the YAML file; a missing or malformed file is an error at start-up."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return PlatformConfig.model_validate(data)
