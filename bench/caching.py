"""`python -m bench caching`: how much of each Claude request is read from the prompt cache.

A 10-turn conversation with tools (questions answered from retrieved passages, reads, three
proposals decided as approved, approved and rejected) runs through the real engine (`run_turn`,
`decisions.approve` / `reject`), the real `AnthropicProvider` and SDK, the bundled sandbox platform
(in-process, seeded) and a retrieval index of the sandbox built for the run, against the fake
Messages API server with `PromptCache` (tests/fakes/prompt_cache.py). That cache decides every
request's cache reads and writes from its content, by the rules Anthropic documents:

- the prompt is tools, then system, then messages, block by block; a cache entry is written at each
  `cache_control` breakpoint (at most 4) for the exact prefix up to it, if that prefix reaches the
  minimum cacheable length (1,024 tokens, Claude Sonnet's);
- a later request reads the longest previously written prefix that is identical up to one of its
  own breakpoints, looking back at most 20 blocks before each breakpoint; entries live 5 minutes;
- tokens are ceil(characters of each block's JSON / 4), the same rule for every request.

The model's side is scripted (the answers and tool calls a model would make, with output tokens
counted by the same rule). Printed: every call's input tokens and the share read from the cache;
the share over all calls after the conversation's first, and the lowest single call; and the
conversation's cost with and without prompt caching, priced by app/usage's pricing (genai-prices
list prices under the override file) for the configured Anthropic model. Nothing here asserts.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.config import Settings
from app.conversation import decisions
from app.conversation import events as ev
from app.conversation.turn import run_turn
from app.providers.anthropic_provider import AnthropicProvider
from app.services import build_services
from app.usage.pricing import PricingTable
from app.usage.usage import Usage
from sandbox.server import start_in_thread
from sandbox.settings import DEFAULT_PLATFORM_CONFIG, SandboxSettings
from tests.fakes import anthropic_server as fa
from tests.fakes.prompt_cache import CHARS_PER_TOKEN, PromptCache

ROOT = Path(__file__).resolve().parents[1]
ADMIN = ("maya.patel@northwind-academy.example", "OrgAdmin#2024")
Reply = fa.AssistantReply | Callable[[dict[str, Any]], fa.AssistantReply]


def _out(blocks: tuple[dict[str, Any], ...]) -> dict[str, int]:
    """Output tokens by the cache's own rule, so every figure counts tokens the same way."""
    chars = sum(len(json.dumps(b, ensure_ascii=False)) for b in blocks)
    return fa.usage(0, max(1, math.ceil(chars / CHARS_PER_TOKEN)))


def say(text: str) -> fa.AssistantReply:
    block = fa.text_block(text)
    return fa.reply(block, usage=_out((block,)))


def call(name: str, args: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]) -> Reply:
    def decide(body: dict[str, Any]) -> fa.AssistantReply:
        block = fa.tool_use_block(name, args(body) if callable(args) else args)
        return fa.reply(block, stop_reason="tool_use", usage=_out((block,)))

    return decide


def found(body: dict[str, Any]) -> str:
    """The id in the latest tool result (a find_* lookup's first match)."""
    result = [b for b in body["messages"][-1]["content"] if b.get("type") == "tool_result"][-1]
    data = json.loads(result["content"])
    return str((data[0] if isinstance(data, list) else data)["id"])


@dataclass
class Turn:
    text: str
    replies: list[Reply]
    decision: str | None = None  # "approve" | "reject": the proposal it ends with, then one answer
    after: str = ""


TRACK = "Cache Bench Pipelines"
TURNS = [
    Turn(
        "What roles can an instructor have on a course?",
        [
            say(
                "Instructors are members of an organization with the instructor role. On a course they "
                "can be the owner (the instructor who created it, who may edit and publish it) or be "
                "assigned to teach the track it belongs to [S1]. Organization admins can assign "
                "instructors to tracks; students only see published courses they are enrolled in [S2]."
            )
        ],
    ),
    Turn(
        "Which projects do we have right now?",
        [
            call("list_projects", {}),
            say(
                "You have three projects: Cloud Engineering Pathway, Data Science Foundations and Web "
                "Development Bootcamp. Would you like the tracks of one of them?"
            ),
        ],
    ),
    Turn(
        f"Create an intermediate track called '{TRACK}' in Data Science Foundations.",
        [
            call("find_project", {"name": "Data Science Foundations"}),
            call(
                "create_track",
                lambda body: {
                    "project_id": found(body),
                    "name": TRACK,
                    "difficulty_level": "intermediate",
                    "description": "Building data pipelines for analysts who know basic Python.",
                },
            ),
        ],
        decision="approve",
        after=f"Created '{TRACK}' (intermediate) in Data Science Foundations. Shall I publish it?",
    ),
    Turn(
        "Before that: what does publishing a track change for students?",
        [
            say(
                "A published track becomes visible to the organization's students and can take "
                "enrollments; a draft track cannot [S1]. Courses inside keep their own published "
                "state, so publish the courses you want students to see as well [S3]."
            )
        ],
    ),
    Turn(
        "OK, publish it.",
        [
            call("find_track", {"name": TRACK}),
            call("publish_track", lambda body: {"track_id": found(body)}),
        ],
        decision="approve",
        after=f"'{TRACK}' is published. Would you like to enroll students in it?",
    ),
    Turn(
        "How many tracks does Data Science Foundations have now?",
        [
            call("find_project", {"name": "Data Science Foundations"}),
            call("list_tracks", lambda body: {"project_id": found(body)}),
            say(
                f"Data Science Foundations has its earlier tracks plus '{TRACK}', which is published "
                "and at intermediate level."
            ),
        ],
    ),
    Turn(
        f"Add a course 'Streaming Basics' to {TRACK}.",
        [
            call("find_track", {"name": TRACK}),
            call(
                "create_course",
                lambda body: {
                    "title": "Streaming Basics",
                    "description": "Event streams and windowed aggregates, hands on.",
                    "track_id": found(body),
                },
            ),
        ],
        decision="reject",
        after="Understood, I did not create the course. Tell me the title you prefer and I will propose it.",
    ),
    Turn(
        "What does the platform need to enroll a student in a track?",
        [
            call("search_docs", {"query": "enroll students in a track API"}),
            say(
                "Enrolling needs the track's id and the students' emails; each email must belong to a "
                "student of your organization, and the track must be published [S1]. The platform "
                "reports per email whether it enrolled, so partial failures are visible [S2]."
            ),
        ],
    ),
    Turn(
        "Which members of the organization are instructors?",
        [
            call("list_members", {"role_type": "instructor"}),
            say("Your instructors are listed above; Daniel Kim teaches in Data Science Foundations."),
        ],
    ),
    Turn(
        "Thanks. Summarize what we changed today.",
        [
            say(
                f"Today: created the intermediate track '{TRACK}' in Data Science Foundations and "
                "published it; the course 'Streaming Basics' was not created (you rejected it). "
                "Nothing else was changed."
            )
        ],
    ),
]


def _build_index(tmp: Path) -> Path:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INDEX_", "CHROMA_"))}
    env.update(INDEX_DIR=str(tmp / "index"), DATA_DIR=str(tmp / "data"), HF_HUB_OFFLINE="1")
    subprocess.run(
        [sys.executable, "-m", "indexing", "build", "--quiet", str(ROOT / "sandbox")],
        check=True, env=env, cwd=ROOT, capture_output=True, timeout=600,
    )  # fmt: skip
    return tmp / "index"


def _run_conversation(
    tmp: Path, server: fa.FakeAnthropicServer, model: str
) -> tuple[Settings, list[ev.UsageReported]]:
    """Drive the conversation; returns the settings used and each model call's usage event."""
    sandbox = start_in_thread(
        SandboxSettings(
            database_url=f"sqlite:///{tmp / 'platform.db'}",
            platform_config=DEFAULT_PLATFORM_CONFIG,
            token_ttl_minutes=60,
        )
    )
    settings = Settings(
        data_dir=tmp / "assistant",
        index_dir=_build_index(tmp),
        platform_base_url=sandbox.base_url,
        database_url=None,
        redis_url=None,
        sandbox_database_url=None,
        anthropic_model=model,
        _env_file=None,  # type: ignore[call-arg]
    )
    provider = AnthropicProvider("bench-key", model, base_url=server.base_url, max_retries=0)
    services = build_services(settings, provider=provider)
    try:
        admin = services.sign_in(*ADMIN)
        deps = services.turn_deps()
        cid = services.store.conversations.create(admin.user_id, admin.organization_id).id
        reported: list[ev.UsageReported] = []
        for turn in TURNS:
            server.enqueue(*turn.replies)
            events = list(run_turn(deps, cid, admin, turn.text))
            _check(events, turn.text)
            reported += [e for e in events if isinstance(e, ev.UsageReported)]
            if turn.decision is None:
                continue
            proposed = [e for e in events if isinstance(e, ev.ActionProposed)][-1]
            server.enqueue(say(turn.after))
            if turn.decision == "approve":
                outcome = decisions.approve(deps, admin, proposed.action_id, expected_digest=proposed.digest)
            else:
                outcome = decisions.reject(deps, admin, proposed.action_id, "not now")
            answered = list(outcome)
            _check(answered, f"decision on {turn.text}")
            reported += [e for e in answered if isinstance(e, ev.UsageReported)]
        return settings, reported
    finally:
        services.close()
        provider.close()
        sandbox.stop()


def _check(events: list[ev.Event], what: str) -> None:
    errors = [e for e in events if isinstance(e, ev.ErrorEvent)]
    if errors:
        raise RuntimeError(f"{what!r} failed: {errors[0].message}")


def bench_caching() -> None:
    print("\n== prompt caching (Claude): a 10-turn conversation with tools ==")
    model = Settings(_env_file=None).anthropic_model  # type: ignore[call-arg]
    cache = PromptCache()
    with tempfile.TemporaryDirectory() as folder, fa.FakeAnthropicServer(cache=cache) as server:
        settings, reported = _run_conversation(Path(folder), server, model)
    pricing = PricingTable.load(settings.pricing_file)
    usages = server.cache_usage
    assert [(u.input_tokens, u.cache_read_input_tokens) for u in usages] == [
        (r.input_tokens, r.cache_read_tokens) for r in reported
    ], "the engine must report what the server computed"
    print(f"model {model}; {len(usages)} model calls; minimum cacheable prefix {cache.min_tokens} tokens")
    print("call  prompt tokens  read  written  uncached  read share")
    for i, u in enumerate(usages, 1):
        share = u.cache_read_input_tokens / u.total
        print(
            f"{i:>4}  {u.total:>13,}  {u.cache_read_input_tokens:>6,}  {u.cache_creation_input_tokens:>7,}"
            f"  {u.input_tokens:>8,}  {share:>9.1%}"
        )
    later = usages[1:]
    read = sum(u.cache_read_input_tokens for u in later)
    total = sum(u.total for u in later)
    lowest = min(later, key=lambda u: u.cache_read_input_tokens / u.total)
    print(
        f"read from the cache, calls 2..{len(usages)}: {read / total:.1%} of {total:,} input tokens; "
        f"lowest single call {lowest.cache_read_input_tokens / lowest.total:.1%}"
    )
    if not pricing.has_price(model, "anthropic"):
        print(f"cost: {model} has no price (unknown model: cost unknown)")
        return
    cached_cost = Decimal(0)
    plain_cost = Decimal(0)
    for u, r in zip(usages, reported, strict=True):
        with_cache = Usage(
            u.input_tokens, r.output_tokens, u.cache_creation_input_tokens, u.cache_read_input_tokens, 1
        )
        cached_cost += pricing.cost(model, with_cache, "anthropic") or Decimal(0)
        plain_cost += pricing.cost(
            model, Usage(u.total, r.output_tokens, requests=1), "anthropic"
        ) or Decimal(0)
    print(
        f"conversation cost ({model} list prices): ${cached_cost:.4f} with prompt caching, "
        f"${plain_cost:.4f} without ({1 - cached_cost / plain_cost:.0%} less)"
    )


if __name__ == "__main__":
    bench_caching()
