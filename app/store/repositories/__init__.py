"""Repositories: one per aggregate, each returning frozen snapshots from `app.store.records`."""

from app.store.repositories.actions import ActionRepository, arguments_digest
from app.store.repositories.audit import AUDIT_EVENTS, AuditRepository
from app.store.repositories.conversations import ConversationRepository
from app.store.repositories.directory import DirectoryRepository
from app.store.repositories.eval_runs import EvalRunRepository
from app.store.repositories.feedback import FeedbackRepository
from app.store.repositories.reports import ReportRepository
from app.store.repositories.turns import TurnRepository
from app.store.repositories.usage import UsageRepository, next_utc_midnight, utc_day_start
from app.store.repositories.web_sessions import WebSessionRepository

__all__ = [
    "AUDIT_EVENTS",
    "ActionRepository",
    "AuditRepository",
    "ConversationRepository",
    "DirectoryRepository",
    "EvalRunRepository",
    "FeedbackRepository",
    "ReportRepository",
    "TurnRepository",
    "UsageRepository",
    "WebSessionRepository",
    "arguments_digest",
    "next_utc_midnight",
    "utc_day_start",
]
