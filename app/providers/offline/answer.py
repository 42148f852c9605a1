"""Extractive answers: the best lines of the best passages, each with its citation.

Without an LLM the assistant cannot write an answer, but it can point at one: from each of the
top passages it keeps the lines that share the most words with the question (a route decorator,
a docstring, a rule, a table row), in their original order, under the passage's citation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from indexing.lexical import tokenize

MAX_PASSAGES = 3
LINES_PER_PASSAGE = 4
MAX_LINE = 220


def _lines(text: str) -> list[str]:
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if len(line) < 3 or line in ('"""', "'''", "```") or set(line) <= set("-=#*|`{}()[]:;,. "):
            continue
        out.append(line if len(line) <= MAX_LINE else line[: MAX_LINE - 3] + "...")
    return out


def best_lines(question: str, text: str, n: int = LINES_PER_PASSAGE) -> list[str]:
    wanted = set(tokenize(question))
    lines = _lines(text)
    scored = []
    for i, line in enumerate(lines):
        terms = set(tokenize(line))
        overlap = len(wanted & terms)
        bonus = 0.5 if line.startswith(("@", "def ", "class ", "#", "-", "CREATE", "|")) else 0.0
        if overlap:
            scored.append((overlap + bonus, i))
    chosen = sorted(i for _, i in sorted(scored, reverse=True)[:n])
    if not chosen:
        chosen = list(range(min(2, len(lines))))
    return [lines[i] for i in chosen]


def extractive_answer(question: str, passages: Sequence[Mapping[str, Any]]) -> str:
    if not passages:
        return (
            "I could not find anything about that in the platform's code and docs. Try other words, or "
            "check that the index is built (`python -m indexing stats`)."
        )
    parts = [
        "Here is what the platform's code and documentation say (offline mode: extracts, not a written answer):"
    ]
    for p in list(passages)[:MAX_PASSAGES]:
        where = f"{p.get('path')}:{p.get('start_line')}-{p.get('end_line')}"
        title = p.get("symbol") or ""
        route = (p.get("metadata") or {}).get("route")
        head = (
            f"\n[{p.get('cite')}] {where}"
            + (f" — {title}" if title else "")
            + (f" ({route})" if route else "")
        )
        body = "\n".join(f"    {line}" for line in best_lines(question, str(p.get("text", ""))))
        parts.append(f"{head}\n\n{body}")  # a blank line: the extract is a code block in Markdown
    parts.append(
        "\nWith an LLM configured (ANTHROPIC_API_KEY), I would answer in my own words from these sources."
    )
    return "\n".join(parts)
