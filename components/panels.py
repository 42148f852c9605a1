"""What the chat's panels show, as plain data: read-model objects in, rows and strings out.

No Streamlit here, so every number and label the panels show is tested on its own
(tests/unit/ui); the render functions only lay these out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from app.conversation.view import CITE, ActionView, TurnView

#: The rankers whose evidence a retrieved chunk carries: (score key, rank key, label).
RANKERS = (
    ("bm25", "bm25_rank", "BM25"),
    ("dense", "dense_chunks_rank", "Dense (chunk card)"),
    ("file_card", "dense_files_rank", "Dense (file card)"),
)
LANGUAGE = {
    "python": "python", "markdown": "markdown", "sql": "sql", "yaml": "yaml", "json": "json",
    "toml": "toml", "ini": "ini", "typescript": "typescript", "javascript": "javascript",
    "html": "html", "shell": "bash",
}  # fmt: skip
ROLE_LABELS = {
    "site_admin": "Site admin",
    "organization_admin": "Organization admin",
    "instructor": "Instructor",
    "student": "Student",
}


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role.replace("_", " ").capitalize())


def numbered(text: str, start_line: int) -> str:
    """The chunk's text with its real line numbers in front (the file's, not 1, 2, 3)."""
    lines = text.splitlines() or [""]
    width = len(str(start_line + len(lines) - 1))
    return "\n".join(f"{n:>{width}} │ {line}" for n, line in enumerate(lines, start_line))


def ranker_evidence(chunk: dict[str, Any], fused_rank: int) -> list[dict[str, Any]]:
    """Each ranker's score and the file's rank in it (None where it did not find it), then the fusion.

    Ranks are per file (the retriever ranks files, then shows each file's best chunk); a chunk's
    BM25 and dense scores are its own.
    """
    scores = chunk.get("scores") or {}
    rows = [
        {"ranker": label, "score": scores.get(key), "rank": _int(scores.get(rank_key))}
        for key, rank_key, label in RANKERS
    ]
    rows.append({"ranker": "Fused (RRF)", "score": scores.get("rrf", chunk.get("score")), "rank": fused_rank})
    return rows


def context_rows(chunks: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The retrieved chunks of a turn in fused order, with where they are and why they were picked."""
    rows = []
    for rank, chunk in enumerate(chunks, 1):
        scores = chunk.get("scores") or {}
        rows.append(
            {
                "rank": rank,
                "cite": chunk.get("cite") or "",
                "path": chunk.get("path"),
                "lines": f"{chunk.get('start_line')}-{chunk.get('end_line')}",
                "symbol": chunk.get("symbol") or "",
                "route": (chunk.get("metadata") or {}).get("route") or "",
                "bm25": scores.get("bm25"),
                "dense": scores.get("dense"),
                "file_card": scores.get("file_card"),
                "fused": scores.get("rrf", chunk.get("score")),
            }
        )
    return rows


def chunk_title(chunk: dict[str, Any]) -> str:
    where = f"{chunk.get('path')}:{chunk.get('start_line')}-{chunk.get('end_line')}"
    parts = [f"[{chunk['cite']}]" if chunk.get("cite") else "", f"`{where}`"]
    if chunk.get("symbol"):
        parts.append(f"— {chunk['symbol']}")
    route = (chunk.get("metadata") or {}).get("route")
    if route:
        parts.append(f"`{route}`")
    return " ".join(p for p in parts if p)


def with_citation_badges(text: str, known: Iterable[str]) -> str:
    """Markdown of an answer with its [S1] markers shown as badges (unknown markers left as typed)."""
    available = set(known)

    def badge(match: re.Match[str]) -> str:
        cite = match.group(1)
        return f":blue-badge[{cite}]" if cite in available else match.group(0)

    return CITE.sub(badge, text)


def cited_chunks(turn: TurnView) -> list[dict[str, Any]]:
    """The chunks an answer cites, first cited first (the Context panel has the rest)."""
    return turn.citations


# --- actions ---------------------------------------------------------------------------------
def _shown(value: Any, missing: str) -> str:
    if value is None:
        return missing
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)


def change_rows(changes: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Before/after rows of what an action will change; nothing yet is "—", removed is "(deleted)"."""
    return [
        {
            "what": str(c.get("target", "")),
            "field": str(c.get("field", "")),
            "before": _shown(c.get("before"), "—"),
            "after": _shown(c.get("after"), "(deleted)"),
        }
        for c in changes
    ]


def change_lines(changes: Sequence[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """What will change, grouped by what it changes: [(target, ["field: before → after", ...])]."""
    groups: dict[str, list[str]] = {}
    for row in change_rows(changes):
        before, after = row["before"], row["after"]
        field = row["field"].replace("_", " ")
        if before == "—":
            line = f"{field}: **{after}**"
        elif after == "(deleted)":
            line = f"{field}: ~~{before}~~ → **deleted**"
        else:
            line = f"{field}: {before} → **{after}**"
        groups.setdefault(row["what"], []).append(line)
    return list(groups.items())


def argument_rows(arguments: dict[str, Any]) -> list[dict[str, str]]:
    return [{"argument": k, "value": _shown(v, "(not set)")} for k, v in arguments.items()]


def expires_in(action: ActionView, now: datetime) -> str:
    seconds = int((action.expires_at - now).total_seconds())
    if seconds <= 0:
        return "expired"
    if seconds < 90:
        return f"expires in {seconds} s"
    return f"expires in {seconds // 60} min"


STATUS_ICONS = {
    "pending": ":material/hourglass_top:", "approved": ":material/thumb_up:", "executing": ":material/sync:",
    "succeeded": ":material/check_circle:", "failed": ":material/error:", "rejected": ":material/block:",
    "expired": ":material/timer_off:",
}  # fmt: skip


# --- usage -----------------------------------------------------------------------------------
USAGE_COLUMNS = [
    "turn", "label", "calls", "input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens",
    "cost_usd", "unpriced_calls", "estimated_calls", "latency_ms",
]  # fmt: skip


def usage_frame(turns: Sequence[TurnView]) -> pd.DataFrame:
    """One row per finished turn with its tokens by kind, cost (None: unpriced) and latency."""
    rows = []
    for t in turns:
        u = t.usage
        if not u:
            continue
        rows.append(
            {
                "turn": t.number,
                "label": _short(t.label),
                "calls": int(u.get("calls", 0)),
                "input_tokens": int(u.get("input_tokens", 0)),
                "output_tokens": int(u.get("output_tokens", 0)),
                "cache_write_tokens": int(u.get("cache_write_tokens", 0)),
                "cache_read_tokens": int(u.get("cache_read_tokens", 0)),
                "cost_usd": u.get("cost_usd"),
                "unpriced_calls": int(u.get("unpriced_calls", 0)),
                "estimated_calls": int(u.get("estimated_calls", 0)),
                "latency_ms": float(u.get("latency_ms", 0.0)),
            }
        )
    return pd.DataFrame(rows, columns=USAGE_COLUMNS)


def usage_totals(frame: pd.DataFrame) -> dict[str, Any]:
    """Sums over the conversation. `cost_usd` None when nothing was priced; unpriced calls counted."""
    if frame.empty:
        return {"turns": 0, "input_tokens": 0, "output_tokens": 0, "cache_write_tokens": 0,
                "cache_read_tokens": 0, "cost_usd": None, "unpriced_calls": 0, "estimated_calls": 0,
                "latency_ms": 0.0}  # fmt: skip
    priced = frame["cost_usd"].dropna()
    return {
        "turns": len(frame),
        "input_tokens": int(frame["input_tokens"].sum()),
        "output_tokens": int(frame["output_tokens"].sum()),
        "cache_write_tokens": int(frame["cache_write_tokens"].sum()),
        "cache_read_tokens": int(frame["cache_read_tokens"].sum()),
        "cost_usd": float(priced.sum()) if len(priced) else None,
        "unpriced_calls": int(frame["unpriced_calls"].sum()),
        "estimated_calls": int(frame["estimated_calls"].sum()),
        "latency_ms": float(frame["latency_ms"].sum()),
    }


def turn_cost(cost: float | None, unpriced_calls: int, calls: int, estimated_calls: int = 0) -> str:
    """A turn's cost for the table: "—" when no model call completed (nothing is known)."""
    return "—" if calls == 0 else format_cost(cost, unpriced_calls, estimated_calls)


ESTIMATE_NOTE = (
    "≈ marks an estimate: the model server reported no token usage (as Ollama does), so tokens were "
    "estimated from the length of the text sent and received (about 4 characters a token)."
)


def format_cost(cost: float | None, unpriced_calls: int = 0, estimated_calls: int = 0) -> str:
    """Dollars with enough digits for small sums; "unpriced" when unknown, never "$0"; "≈" when
    some of it rests on estimated token counts."""
    if cost is None:
        return "unpriced"
    if estimated_calls:
        return "≈ " + format_cost(cost, unpriced_calls)
    if cost == 0:
        text = "$0.00"
    elif cost < 0.01:
        text = f"${cost:.4f}"
    else:
        text = f"${cost:,.2f}"
    return text + (
        f" + {unpriced_calls} unpriced call{'s' if unpriced_calls != 1 else ''}" if unpriced_calls else ""
    )


def format_latency(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def turn_usage_line(usage: dict[str, Any] | None) -> str:
    """One caption line under an answer: tokens, cost, time."""
    if not usage:
        return ""
    if not usage.get("calls"):  # stopped or failed before any model call finished
        return (
            f"no model call completed, usage unknown · {format_latency(float(usage.get('latency_ms', 0.0)))}"
        )
    estimated = int(usage.get("estimated_calls", 0))
    mark = "≈ " if estimated else ""
    parts = [f"{mark}{usage.get('input_tokens', 0):,} in · {mark}{usage.get('output_tokens', 0):,} out"]
    cache_r, cache_w = usage.get("cache_read_tokens", 0), usage.get("cache_write_tokens", 0)
    if cache_r or cache_w:
        parts.append(f"cache {cache_r:,} read / {cache_w:,} written")
    parts.append(format_cost(usage.get("cost_usd"), int(usage.get("unpriced_calls", 0)), estimated))
    parts.append(format_latency(float(usage.get("latency_ms", 0.0))))
    if estimated:
        parts.append("estimated: the server reported no usage")
    return " · ".join(parts)


def _short(text: str, limit: int = 48) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) else None
