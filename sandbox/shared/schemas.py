"""Field types and response pieces shared by every service's schemas.

Request models forbid unknown fields (`extra="forbid"`): a misspelled field name is a 422 naming
that field, instead of a silently ignored value (the assistant learns of its mistake at once).
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from sandbox.shared.text import SLUG_PATTERN

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, min_length=1, max_length=100)]
ListItem = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortList = Annotated[list[ListItem], Field(max_length=20)]
Email = EmailStr


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters other than tab, newline and carriage return (NUL above all)."""


def _reject_control_characters(value: Any) -> Any:
    texts = value if isinstance(value, list) else [value]
    for text in texts:
        if isinstance(text, str) and (found := _CONTROL.search(text)):
            raise PydanticCustomError(
                "control_characters",
                "must not contain control characters (found U+{code})",
                {"code": f"{ord(found.group()):04X}"},
            )
    return value


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are errors, and so are control characters.

    A NUL or escape character in a name is never intended; stored, it breaks exports, terminals
    and other clients, so every text field refuses it (tab and newline stay allowed).
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return _reject_control_characters(value)


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
