"""Synthetic history for the operator pages: conversations, turns, actions, feedback, usage, audit.

Deterministic (seeded), written with bulk inserts through the store's own models, so the same call
fills SQLite or PostgreSQL. The benchmark fills 10,000 conversations and 100,000 usage rows; the
UI tests fill a few dozen to see the pages with data.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert

from app.store.db import Store
from app.store.models import (
    AuditEntry,
    Conversation,
    DirectoryEntry,
    Feedback,
    PendingAction,
    Turn,
    UsageRecord,
)

MODELS = (  # provider, model, $ per million input, $ per million output (None: no price)
    ("anthropic", "claude-sonnet-5-5", 2.0, 10.0),
    ("openai", "gpt-5.5", 1.25, 10.0),
    ("offline", "planner-v1", 0.0, 0.0),
    ("openai", "self-hosted-llama", None, None),
)
TOOLS = (
    "search_docs",
    "find_project",
    "find_track",
    "list_projects",
    "create_track",
    "enroll_students_in_track",
    "publish_course",
)
STATUSES = (("succeeded", 60), ("rejected", 15), ("expired", 10), ("failed", 5), ("pending", 10))
QUESTIONS = (
    "What roles can an instructor have on a course?", "How do I enroll students in a track?",
    "Create an intermediate Python track in Data Science Foundations", "Which endpoint publishes a course?",
    "Why can't I delete this project?", "List the projects",
)  # fmt: skip


@dataclass
class Org:
    id: str
    name: str
    users: list[tuple[str, str, str]] = field(default_factory=list)  # user id, email, full name


@dataclass(frozen=True)
class Filled:
    conversations: int
    turns: int
    actions: int
    usage_rows: int
    feedback: int


def orgs_of(spec: list[tuple[str, str, list[tuple[str, str, str]]]] | None, users_per_org: int) -> list[Org]:
    if spec:
        return [Org(i, n, list(u)) for i, n, u in spec]
    made = []
    for o in range(2):
        org = Org(str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-org-{o}")), f"Organization {o + 1}")
        for u in range(users_per_org):
            uid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-user-{o}-{u}"))
            org.users.append((uid, f"user{u}@org{o + 1}.example", f"User {u} of Org {o + 1}"))
        made.append(org)
    return made


def populate(store: Store, *, conversations: int, usage_rows: int, now: datetime, days: int = 90, seed: int = 7,
             orgs: list[tuple[str, str, list[tuple[str, str, str]]]] | None = None, users_per_org: int = 20,
             batch: int = 5000) -> Filled:  # fmt: skip
    """Fill the store with `conversations` conversations over the last `days` days and `usage_rows` model calls."""
    rng = random.Random(seed)
    world = orgs_of(orgs, users_per_org)
    tables: dict[Any, list[dict[str, Any]]] = {
        k: [] for k in (DirectoryEntry, Conversation, Turn, PendingAction, Feedback, AuditEntry, UsageRecord)
    }
    for org in world:
        for uid, email, name in org.users:
            tables[DirectoryEntry].append({"user_id": uid, "email": email, "full_name": name, "role": "organization_admin",
                                           "organization_id": org.id, "organization_name": org.name, "last_seen_at": now})  # fmt: skip
    turn_refs: list[tuple[str, str, str, datetime]] = []  # conversation, user, org, when
    for _ in range(conversations):
        org = rng.choice(world)
        uid = rng.choice(org.users)[0]
        cid = str(uuid.UUID(int=rng.getrandbits(128)))
        start = now - timedelta(seconds=rng.uniform(0, days * 86400))
        tables[Conversation].append({"id": cid, "user_id": uid, "organization_id": org.id, "title": rng.choice(QUESTIONS),
                                     "summary": "", "summarized_upto_seq": 0, "created_at": start, "updated_at": start})  # fmt: skip
        when = start
        for number in range(1, rng.randint(1, 6) + 1):
            when += timedelta(seconds=rng.uniform(20, 600))
            if when > now:
                break
            tid = str(uuid.UUID(int=rng.getrandbits(128)))
            label = rng.choice(QUESTIONS)
            proposes = label.startswith("Create") or rng.random() < 0.1
            latency = min(60000.0, rng.lognormvariate(7.5, 0.8))
            score = None if rng.random() < 0.05 else round(rng.uniform(0.1, 0.85), 3)
            tools = rng.sample(TOOLS[:4], rng.randint(0, 2)) + (["create_track"] if proposes else [])
            tables[Turn].append({
                "id": tid, "conversation_id": cid, "number": number, "kind": "message", "label": label, "user_id": uid,
                "organization_id": org.id, "status": "completed", "stop": "action_proposed" if proposes else "end_turn",
                "owner": "synthetic", "started_at": when, "heartbeat_at": when, "ended_at": when + timedelta(milliseconds=latency),
                "cancel_requested": False, "answer_seq": number * 2, "latency_ms": latency, "proposals": int(proposes),
                "tools": tools, "context_score": score,
                "view": {"id": tid, "conversation_id": cid, "number": number, "kind": "message", "label": label,
                         "status": "completed", "query": label, "chunks": [], "text": "(synthetic)"},
            })  # fmt: skip
            turn_refs.append((cid, uid, org.id, when))
            if proposes:
                _action(tables, rng, cid, uid, org.id, when, now)
            if rng.random() < 0.3:
                tables[Feedback].append({"id": str(uuid.UUID(int=rng.getrandbits(128))), "at": when, "conversation_id": cid,
                                         "message_seq": number * 2, "user_id": uid, "rating": 1 if rng.random() < 0.7 else -1})  # fmt: skip
    for _ in range(usage_rows):
        cid, uid, org_id, when = rng.choice(turn_refs)
        provider, model, price_in, price_out = rng.choices(MODELS, weights=(60, 20, 15, 5))[0]
        tokens_in, tokens_out = rng.randint(200, 6000), rng.randint(20, 900)
        cache_read = rng.randint(0, 8000) if provider == "anthropic" and rng.random() < 0.7 else 0
        cache_write = rng.randint(0, 3000) if provider == "anthropic" and rng.random() < 0.2 else 0
        cost = None if price_in is None or price_out is None else Decimal(
            str(round((tokens_in * price_in + tokens_out * price_out + cache_read * price_in * 0.1 + cache_write * price_in * 1.25) / 1e6, 10))
        )  # fmt: skip
        tables[UsageRecord].append({"id": str(uuid.UUID(int=rng.getrandbits(128))), "at": when + timedelta(milliseconds=rng.uniform(0, 5000)),
                                    "conversation_id": cid, "user_id": uid, "organization_id": org_id, "provider": provider, "model": model,
                                    "input_tokens": tokens_in, "output_tokens": tokens_out, "cache_write_tokens": cache_write,
                                    "cache_read_tokens": cache_read, "latency_ms": rng.uniform(300, 9000), "cost_usd": cost})  # fmt: skip
    order = (DirectoryEntry, Conversation, Turn, PendingAction, Feedback, AuditEntry, UsageRecord)
    with store.db.write() as session:
        for table in order:
            rows = tables[table]
            for i in range(0, len(rows), batch):
                session.execute(insert(table), rows[i : i + batch])
    return Filled(
        len(tables[Conversation]),
        len(tables[Turn]),
        len(tables[PendingAction]),
        len(tables[UsageRecord]),
        len(tables[Feedback]),
    )


def _action(tables: dict[Any, list[dict[str, Any]]], rng: random.Random, cid: str, uid: str, org_id: str,
            when: datetime, now: datetime) -> None:  # fmt: skip
    aid = str(uuid.UUID(int=rng.getrandbits(128)))
    status = rng.choices([s for s, _ in STATUSES], weights=[w for _, w in STATUSES])[0]
    delay = timedelta(seconds=rng.lognormvariate(4.0, 1.0))
    decided = (
        None
        if status == "pending"
        else min(now, when + (timedelta(minutes=30) if status == "expired" else delay))
    )
    if status == "pending" and when + timedelta(minutes=30) < now:
        status, decided = "expired", when + timedelta(minutes=30)
    tables[PendingAction].append({
        "id": aid, "conversation_id": cid, "user_id": uid, "organization_id": org_id, "tool": "create_track",
        "arguments": {"name": "Synthetic track", "difficulty_level": "beginner"}, "preview": "Create track 'Synthetic track' (beginner)",
        "digest": uuid.uuid4().hex, "idempotency_key": aid, "risk": "write", "confirm_name": None, "status": status,
        "expires_at": when + timedelta(minutes=30), "created_at": when, "decided_at": decided, "decided_by": uid if decided else None,
        "reason": "not now" if status == "rejected" else None, "result": None, "error": "platform said 500" if status == "failed" else None,
        "attempts": 1 if status in ("succeeded", "failed") else 0, "changes": [],
    })  # fmt: skip
    tables[AuditEntry].append({"id": str(uuid.uuid4()), "at": when, "user_id": uid, "organization_id": org_id, "conversation_id": cid,
                               "action_id": aid, "event": "proposed", "details": {"tool": "create_track"}})  # fmt: skip
    if decided is not None:
        event = {"succeeded": "executed", "failed": "failed", "rejected": "rejected", "expired": "expired"}[
            status
        ]
        tables[AuditEntry].append({"id": str(uuid.uuid4()), "at": decided, "user_id": uid, "organization_id": org_id,
                                   "conversation_id": cid, "action_id": aid, "event": event, "details": {}})  # fmt: skip
