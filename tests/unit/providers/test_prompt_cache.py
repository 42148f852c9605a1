"""The fake prompt cache decides reads and writes by Anthropic's prefix rules (see its docstring)."""

from __future__ import annotations

from typing import Any

from tests.fakes.prompt_cache import PromptCache, prompt_blocks

MARK = {"type": "ephemeral"}
BIG = "x" * 6000  # 1,500 tokens at 4 characters a token: above the minimum on its own


def text(value: str, mark: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": value}
    if mark:
        block["cache_control"] = MARK
    return block


def body(*messages: list[dict[str, Any]], system: str = BIG, tools: int = 2) -> dict[str, Any]:
    return {
        "model": "m",
        "tools": [{"name": f"t{i}", "description": "d", "input_schema": {}} for i in range(tools)],
        "system": [{"type": "text", "text": system, "cache_control": MARK}],
        "messages": [
            {"role": "user" if i % 2 == 0 else "assistant", "content": blocks}
            for i, blocks in enumerate(messages)
        ],
    }


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_blocks_come_in_tools_system_messages_order_and_breakpoints_do_not_change_content() -> None:
    marked = prompt_blocks(body([text("hi", mark=True)]))
    plain = prompt_blocks(body([text("hi")]))
    assert [b.key.split(":")[0] for b in marked] == ["tool", "tool", "system", "message0"]
    assert [b.key for b in marked] == [b.key for b in plain]
    assert [b.breakpoint for b in marked] == [False, False, True, True]


def test_a_first_request_writes_and_the_same_prefix_is_then_read() -> None:
    cache = PromptCache()
    first = cache.usage(body([text("question one", mark=True)]))
    assert first.cache_read_input_tokens == 0 and first.input_tokens == 0
    assert first.cache_creation_input_tokens == first.total
    grown = cache.usage(body([text("question one")], [text("answer")], [text("question two", mark=True)]))
    assert grown.cache_read_input_tokens == first.total  # found 2 blocks back from the breakpoint
    assert grown.cache_creation_input_tokens == grown.total - first.total


def test_a_change_before_the_end_is_read_only_up_to_the_change() -> None:
    cache = PromptCache()
    system_only = cache.usage(body([text("q")]))  # breakpoint on the system prompt only
    cache.usage(body([text("question one", mark=True)]))
    changed = cache.usage(body([text("question ONE", mark=True)]))
    assert changed.cache_read_input_tokens == system_only.cache_creation_input_tokens
    assert changed.cache_read_input_tokens < changed.total


def test_the_lookback_is_twenty_blocks() -> None:
    cache = PromptCache()
    start = [text("start", mark=True)]
    written = cache.usage(body(start))
    near = [text("start")] + [text(f"b{i}") for i in range(19)]
    near[-1]["cache_control"] = MARK
    assert cache.usage(body(near)).cache_read_input_tokens == written.total  # 19 blocks back: found
    cache.clear()
    cache.usage(body(start))
    far = [text("start")] + [text(f"b{i}") for i in range(21)]
    far[-1]["cache_control"] = MARK
    far_usage = cache.usage(body(far))
    # 21 blocks back is out of reach: only the system prompt's own entry is read
    assert 0 < far_usage.cache_read_input_tokens < written.total


def test_a_prefix_below_the_minimum_is_neither_written_nor_read() -> None:
    cache = PromptCache(min_tokens=1024)
    small = body([text("hi", mark=True)], system="short", tools=0)
    assert cache.usage(small).cache_creation_input_tokens == 0
    assert cache.usage(small).cache_read_input_tokens == 0


def test_entries_expire_after_five_minutes_unless_read() -> None:
    clock = Clock()
    cache = PromptCache(clock=clock)
    request = body([text("q", mark=True)])
    cache.usage(request)
    clock.now = 299.0
    assert cache.usage(request).cache_read_input_tokens > 0  # a read refreshes the entry
    clock.now = 299.0 + 301.0
    assert cache.usage(request).cache_read_input_tokens == 0


def test_the_model_is_part_of_the_key() -> None:
    cache = PromptCache()
    request = body([text("q", mark=True)])
    cache.usage(request)
    assert cache.usage({**request, "model": "other"}).cache_read_input_tokens == 0
