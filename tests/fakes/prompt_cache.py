"""Anthropic's prompt cache, decided from a request's content the way the API documents it.

`FakeAnthropicServer(cache=PromptCache())` answers every request with usage computed here instead
of the scripted counts, so a test or a benchmark sees the cache reads and writes the real API
would report for the same sequence of requests. How it decides:

1. The prompt is a sequence of blocks in the API's order: each tool definition, then each system
   block (a string system is one block), then each content block of each message (a string
   content is one text block). A block is its JSON without `cache_control` (moving a breakpoint
   does not change the content), tagged with its section, and for messages with the message's
   index and role. `model` is part of every key (caches are per model).
2. A block's tokens are estimated as ceil(characters of its JSON / 4); the request's input tokens
   are the sum. The same rule is applied to every request, so shares and costs compare like
   for like (the real tokenizer differs by some percent, not in kind).
3. A cache entry is the exact prefix up to and including a block that carries `cache_control` (a
   breakpoint): the hash of every block before it and of itself. At most 4 breakpoints.
4. Read: for each breakpoint, the positions from the breakpoint back to 20 blocks before it are
   checked, nearest first, for an entry written earlier and not expired; the longest prefix found
   at any breakpoint is read (`cache_read_input_tokens`). Without a hit nothing is read.
5. Write: every breakpoint after the read position whose prefix reaches the minimum cacheable
   length (default 1,024 tokens, Claude Sonnet's) becomes an entry; the tokens from the read
   position to the last such breakpoint are `cache_creation_input_tokens`. A prefix below the
   minimum is neither written nor read.
6. Everything after the last written (or read) position is `input_tokens`. So
   input_tokens + cache_creation_input_tokens + cache_read_input_tokens is the whole prompt.
7. Entries live 5 minutes from their last write or read (the default TTL); a read refreshes one.

Not modelled: the 1-hour TTL, automatic (top-level) `cache_control`, and the finer invalidation
tiers (tool_choice, images, thinking settings): none is used by this product.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LOOKBACK_BLOCKS = 20
MIN_CACHEABLE_TOKENS = 1024
TTL_S = 300.0
CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class CacheUsage:
    """The input side of Anthropic's usage object for one request."""

    input_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int

    @property
    def total(self) -> int:
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens


@dataclass(frozen=True)
class PromptBlock:
    key: str  # section, position and content: what a prefix is made of
    tokens: int
    breakpoint: bool


def tokens_of(block: Any) -> int:
    return max(1, math.ceil(len(json.dumps(block, ensure_ascii=False)) / CHARS_PER_TOKEN))


def prompt_blocks(body: dict[str, Any]) -> list[PromptBlock]:
    """The request's blocks in cache order: tools, system, messages (see the module docstring)."""
    out: list[PromptBlock] = []

    def add(label: str, block: Any) -> None:
        marked = isinstance(block, dict) and "cache_control" in block
        bare = {k: v for k, v in block.items() if k != "cache_control"} if isinstance(block, dict) else block
        out.append(PromptBlock(f"{label}:{json.dumps(bare, sort_keys=True)}", tokens_of(bare), marked))

    for tool in body.get("tools") or []:
        add("tool", tool)
    system = body.get("system")
    if isinstance(system, str) and system:
        add("system", {"type": "text", "text": system})
    elif isinstance(system, list):
        for block in system:
            add("system", block)
    for index, message in enumerate(body.get("messages") or []):
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        for block in blocks:
            add(f"message{index}:{message.get('role')}", block)
    return out


class PromptCache:
    """The cache of one organization's API key: entries keyed by prefix hash. Thread-safe."""

    def __init__(
        self,
        *,
        min_tokens: int = MIN_CACHEABLE_TOKENS,
        ttl_s: float = TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_tokens = min_tokens
        self.ttl_s = ttl_s
        self.clock = clock
        self._entries: dict[str, float] = {}  # prefix hash -> expiry
        self._lock = threading.Lock()

    def usage(self, body: dict[str, Any]) -> CacheUsage:
        """Decide this request's reads and writes, and record its writes."""
        blocks = prompt_blocks(body)
        hashes: list[str] = []
        totals: list[int] = []
        digest = hashlib.sha256(str(body.get("model", "")).encode())
        running = 0
        for block in blocks:
            digest.update(block.key.encode())
            hashes.append(digest.hexdigest())
            running += block.tokens
            totals.append(running)
        breakpoints = [i for i, b in enumerate(blocks) if b.breakpoint]
        now = self.clock()
        with self._lock:
            self._entries = {h: t for h, t in self._entries.items() if t > now}
            read_at = -1
            for point in breakpoints:
                for position in range(point, max(-1, point - LOOKBACK_BLOCKS - 1), -1):
                    if hashes[position] in self._entries:
                        read_at = max(read_at, position)
                        break
            if read_at >= 0:
                self._entries[hashes[read_at]] = now + self.ttl_s
            written_to = read_at
            for point in breakpoints:
                if point > read_at and totals[point] >= self.min_tokens:
                    self._entries[hashes[point]] = now + self.ttl_s
                    written_to = point
        read = totals[read_at] if read_at >= 0 else 0
        covered = totals[written_to] if written_to >= 0 else 0
        return CacheUsage(running - covered, covered - read, read)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
