"""Platform failures, split by what the caller can do about them.

A 4xx is the platform refusing this request (wrong input, no permission, a rule): the model or
the user must change something, and the message says what. A timeout, a connection failure or a
5xx means the platform did not finish: the same request may be retried later, with the same
idempotency key so it cannot happen twice.
"""

from __future__ import annotations

from typing import Any


class PlatformError(Exception):
    """The platform answered with an error (4xx): `detail`, `field` and `rule` say why."""

    def __init__(
        self, status: int, detail: str, *, field: str | None = None, rule: str | None = None, body: Any = None
    ) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.field = field
        self.rule = rule
        self.body = body

    @property
    def retryable(self) -> bool:
        # 409 idempotency_key_in_progress: the first request with this key is still running on
        # the platform, so the action may yet complete; retrying with the same key is safe.
        return self.status in (408, 429) or self.rule == "idempotency_key_in_progress"

    def describe(self) -> str:
        """One line for a person or a model: what was refused and why."""
        where = f" (field {self.field})" if self.field else ""
        rule = f" [rule: {self.rule}]" if self.rule else ""
        return f"The platform refused the request with {self.status}: {self.detail}{where}{rule}"


class PlatformUnavailableError(PlatformError):
    """No usable answer: a timeout, a connection error or a 5xx. Safe to retry with the same key."""

    @property
    def retryable(self) -> bool:
        return True

    def describe(self) -> str:
        return f"The platform did not complete the request ({self.detail}). It can be retried safely."
