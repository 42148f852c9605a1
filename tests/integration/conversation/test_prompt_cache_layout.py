"""Claude's requests in a conversation only grow, so each one reads the whole previous one from the
prompt cache: across the steps of a tool loop, across turns, and across a decision on a proposal.

The fake Messages API computes cache reads and writes from the requests' content by Anthropic's
prefix rules (tests/fakes/prompt_cache.py); bench/caching.py prints the same figures for a longer
conversation with retrieval.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

from app.conversation import decisions
from app.conversation import events as ev
from app.conversation.turn import run_turn
from app.providers.anthropic_provider import AnthropicProvider
from app.services import Services
from tests.fakes import anthropic_server as fa
from tests.fakes.prompt_cache import PromptCache
from tests.integration.conversation.conftest import ADMIN_A
from tests.integration.conversation.helpers import collect, new_conversation, of, one


def found_id(body: dict[str, Any]) -> str:
    result = [b for b in body["messages"][-1]["content"] if b["type"] == "tool_result"][-1]
    return str(json.loads(result["content"])[0]["id"])


def test_every_call_reads_the_whole_previous_request_from_the_cache(
    make_services: Callable[..., Services], sign_in: Any
) -> None:
    admin = sign_in(ADMIN_A)
    cache = PromptCache()
    with fa.FakeAnthropicServer(cache=cache) as server:
        provider = AnthropicProvider("k", "claude-sonnet-5-5", base_url=server.base_url, max_retries=0)
        services = make_services(provider)
        deps = services.turn_deps()
        cid = new_conversation(services, admin)
        server.enqueue(
            fa.reply_text("A track groups courses inside a project."),
            fa.reply_tool_use("list_projects", {}),
            fa.reply_text("You have three projects."),
            fa.reply_tool_use("find_project", {"name": "Data Science Foundations"}),
            lambda body: fa.reply_tool_use(
                "create_track", {"project_id": found_id(body), "name": "Cache Layout Track"}
            ),
            fa.reply_text("Created. Add courses next?"),
            fa.reply_text("Courses belong to a track."),
        )
        collect(run_turn(deps, cid, admin, "What is a track?"))
        collect(run_turn(deps, cid, admin, "Which projects do we have?"))
        proposing = collect(run_turn(deps, cid, admin, "Create Cache Layout Track in DSF"))
        proposed = one(proposing, ev.ActionProposed)
        approved = collect(
            decisions.approve(deps, admin, proposed.action_id, expected_digest=proposed.digest)
        )
        assert one(approved, ev.ActionExecuted).ok
        collect(run_turn(deps, cid, admin, "And what is a course?"))
        provider.close()

    usages = server.cache_usage
    assert len(usages) == 7
    assert usages[0].cache_read_input_tokens == 0
    assert usages[0].cache_creation_input_tokens == usages[0].total  # all of it written for later
    for before, after in itertools.pairwise(usages):
        # the previous request is an exact prefix of this one, read whole; only the rest is written
        assert after.cache_read_input_tokens == before.total
        assert after.cache_creation_input_tokens == after.total - before.total
        assert after.input_tokens == 0
    # and the engine reports what the API said
    reported = of(approved, ev.UsageReported)
    assert reported[0].cache_read_tokens == usages[5].cache_read_input_tokens


def test_a_decision_after_the_conversation_went_on_reads_up_to_the_rewritten_result(
    make_services: Callable[..., Services], sign_in: Any
) -> None:
    """The one place a request does not only grow: the proposing call's result changes from
    "pending" to the decision when the user decided only after saying something else. The cache
    is still read up to that result."""
    admin = sign_in(ADMIN_A)
    cache = PromptCache()
    with fa.FakeAnthropicServer(cache=cache) as server:
        provider = AnthropicProvider("k", "claude-sonnet-5-5", base_url=server.base_url, max_retries=0)
        services = make_services(provider)
        deps = services.turn_deps()
        cid = new_conversation(services, admin)
        server.enqueue(
            fa.reply_tool_use("find_project", {"name": "Data Science Foundations"}),
            lambda body: fa.reply_tool_use(
                "create_track", {"project_id": found_id(body), "name": "Cache Late Decision"}
            ),
            fa.reply_text("It will be a beginner track unless you say otherwise."),
            fa.reply_text("Created."),
        )
        proposed = one(
            collect(run_turn(deps, cid, admin, "Create Cache Late Decision in DSF")), ev.ActionProposed
        )
        collect(run_turn(deps, cid, admin, "Which level will it get?"))
        collect(decisions.approve(deps, admin, proposed.action_id, expected_digest=proposed.digest))
        provider.close()
        last_body = server.bodies[-1]

    usages = server.cache_usage
    assert len(usages) == 4
    # up to the proposing call (tools, system, first message, the assistant's tool call) is read
    assert 0 < usages[3].cache_read_input_tokens < usages[2].total
    (decision,) = [
        b
        for m in last_body["messages"]
        for b in m["content"]
        if b.get("type") == "tool_result" and proposed.action_id in b["content"]
    ]
    assert json.loads(decision["content"])["decision"] == "executed"
