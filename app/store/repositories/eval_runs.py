"""Evaluation runs of the Retrieval lab, kept so quality over time can be compared."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.store.models import EvalRun
from app.store.records import EvalRunData

if TYPE_CHECKING:
    from app.store.sessions import SessionSource


class EvalRunRepository:
    def __init__(self, db: SessionSource) -> None:
        self._db = db

    def add(self, **values: Any) -> EvalRunData:
        row = EvalRun(at=values.pop("at", None) or self._db.clock(), **values)
        with self._db.write() as session:
            session.add(row)
            session.flush()
            return EvalRunData.of(row)

    def get(self, run_id: str) -> EvalRunData | None:
        with self._db.read() as session:
            row = session.get(EvalRun, run_id)
            return None if row is None else EvalRunData.of(row)

    def list(self, *, limit: int = 200) -> list[EvalRunData]:
        """Runs, newest first."""
        stmt = select(EvalRun).order_by(EvalRun.at.desc(), EvalRun.id).limit(limit)
        with self._db.read() as session:
            return [EvalRunData.of(row) for row in session.scalars(stmt)]
