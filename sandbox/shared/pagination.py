"""The one list envelope: every list endpoint answers `{"items", "total", "limit", "offset"}`.

`total` counts every row matching the filters (not just this page), so a client can tell whether
to fetch the next page with `offset = offset + limit`. Page sizes come from platform.yaml
(`requests.default_page_size`, `requests.max_page_size`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from sandbox.shared.context import ContextDep
from sandbox.shared.errors import ApiError, unprocessable

MAX_OFFSET = 2**31 - 1
"""Past any real list; larger values overflow the databases' 64-bit OFFSET (a 500 before)."""

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of results and the size of the whole result."""

    items: list[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class PageParams:
    """Validated `limit` and `offset` of a list request."""

    limit: int
    offset: int


def page_params(
    context: ContextDep,
    limit: Annotated[
        int | None, Query(ge=1, description="Page size (default and maximum in platform.yaml)")
    ] = None,
    offset: Annotated[int, Query(ge=0, description="Rows to skip")] = 0,
) -> PageParams:
    """Read `limit`/`offset`; a limit above `requests.max_page_size` is refused, not silently cut."""
    limits = context.config.requests
    if offset > MAX_OFFSET:
        raise ApiError(400, f"offset may be at most {MAX_OFFSET}", rule="offset_out_of_range", field="offset")
    if limit is not None and limit > limits.max_page_size:
        raise unprocessable(
            f"limit may be at most {limits.max_page_size}", rule="page_size_too_large", field="limit"
        )
    return PageParams(limit=limit or limits.default_page_size, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


def fetch_page(session: Session, stmt: Select[Any], params: PageParams) -> tuple[Sequence[Any], int]:
    """Run `stmt` for one page and count all its rows."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.scalars(stmt.limit(params.limit).offset(params.offset)).all()
    return rows, total
