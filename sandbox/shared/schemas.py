"""Field types and response pieces shared by every service's schemas.

Request models forbid unknown fields (`extra="forbid"`): a misspelled field name is a 422 naming
that field, instead of a silently ignored value (the assistant learns of its mistake at once).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from sandbox.shared.text import SLUG_PATTERN

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, min_length=1, max_length=100)]
ListItem = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortList = Annotated[list[ListItem], Field(max_length=20)]
Email = EmailStr


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid")


class ResponseModel(BaseModel):
    """Base of every response body: built from ORM rows by attribute name."""

    model_config = ConfigDict(from_attributes=True)


class DeleteResult(ResponseModel):
    """What a DELETE removed: the row itself and, by table, what cascaded with it."""

    id: uuid.UUID
    deleted: bool = True
    cascaded: dict[str, int] = Field(default_factory=dict)


def normalize_email(email: str) -> str:
    """Emails are stored and compared in lower case."""
    return email.strip().lower()
