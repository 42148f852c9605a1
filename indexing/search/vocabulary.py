"""A small bridge from the words people ask in to the words code is written in.

An admin asks "who is allowed to remove a member", "which page", "what is the default", "is it
stored in the database"; the file that answers says `require_permission`, `pages/Members.tsx`,
`config.yaml`, `CREATE TABLE ... CHECK`. BM25 and the cards only meet the question where the
words are shared, so the answer is often found by one ranker only, or not at all.

`expand` maps BM25 terms of a question (already split and stemmed by `indexing.lexical.tokenize`)
to the terms of the code idioms they usually stand for in a web application: permissions and
roles, configuration and defaults, limits, front-end pages and components, database schemas,
expiry and timeouts, retries, states, validation, API routes. The table is general on purpose
(nothing in it names one codebase's modules); the extra terms are searched with a lower weight
than the question's own (see `HybridRetriever`), so they reorder the candidates the question's
words find rather than bring in files that share none of them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from indexing.cards import CONFIG_KINDS
from indexing.lexical import tokenize

# trigger words (any form a question uses) -> the code idioms they stand for
BRIDGE: dict[str, str] = {
    "permission permissions permitted permit allowed allow authorized forbidden insufficient "
    "privilege privileges": "permission role require authorize access",
    "role roles": "permission role require",
    "setting settings configured configuration configure default defaults": "config settings default yaml env",
    "limit limits maximum max cap": "max limit",
    "minimum least": "min",
    "threshold thresholds": "threshold",
    "page pages screen browser button form frontend front web": "frontend component page react tsx",
    "database table tables column columns constraint constraints schema": "table column constraint check unique sql migration",
    "expire expires expiry expiration expired": "expire ttl expiry",
    "wait timeout": "timeout",
    "retry retried retries": "retry attempts max",
    "automatically automatic": "auto automatic",
    # not "sign": "sign up" is a registration and "sign in" a login, and a term alone cannot tell
    "login logged logon": "auth login token session",
    "register registering registration signup": "register registration signup",
    "command script": "script command sh",
    "status statuses stage stages state states": "status state enum transition",
    "rule rules rejected refused refuse reject validate validated validation checked": "validate validation check error",
    "endpoint endpoints api": "route router endpoint api",
}  # fmt: skip


@cache
def _table() -> dict[str, tuple[str, ...]]:
    """BRIDGE in BM25 terms: each stemmed trigger term -> the stemmed terms it adds."""
    table: dict[str, list[str]] = {}
    for triggers, idioms in BRIDGE.items():
        added = tokenize(idioms)
        for word in triggers.split():
            for term in tokenize(word):
                known = table.setdefault(term, [])
                known.extend(t for t in added if t not in known)
    return {term: tuple(added) for term, added in table.items()}


def expand(terms: Sequence[str]) -> list[str]:
    """The bridged terms of a question's BM25 terms, each once, none the question already has."""
    table = _table()
    present = set(terms)
    out: list[str] = []
    for term in terms:
        for added in table.get(term, ()):
            if added not in present and added not in out:
                out.append(added)
    return out


# Words by which a question asks for a kind of file -> the chunk kinds (indexing.chunkers) of
# those files (configuration also takes code files named so: vite.config.ts, settings.py). The answer to "what is the default ..." or "is there a limit on ..." is usually a
# configuration value; to "what does the database allow" a schema. (Front-end words -> TypeScript
# was measured too and left out: it moved the tuning questions' MRR@10 by -0.01.)
_CONFIG_NAME = re.compile(r"(^|[._-])(config|configuration|settings|conf)([._-]|$)", re.IGNORECASE)
KIND_HINTS: dict[str, frozenset[str]] = {
    "limit limits maximum minimum default defaults threshold thresholds configured configuration "
    "setting settings timeout port ports": CONFIG_KINDS,
    "database table tables column columns constraint constraints schema unique stored": frozenset({"sql"}),
}


@cache
def _kind_table() -> dict[str, frozenset[str]]:
    table: dict[str, frozenset[str]] = {}
    for triggers, kinds in KIND_HINTS.items():
        for word in triggers.split():
            for term in tokenize(word):
                table[term] = table.get(term, frozenset()) | kinds
    return table


def hinted_kinds(terms: Sequence[str]) -> frozenset[str]:
    """The chunk kinds a question's BM25 terms ask for (empty: no hint)."""
    table = _kind_table()
    out: frozenset[str] = frozenset()
    for term in terms:
        out |= table.get(term, frozenset())
    return out


def is_hinted(path: str, kind: str, hinted: frozenset[str]) -> bool:
    """Whether a file (its path and chunk kind) is of a kind the question asks for."""
    if kind in hinted:
        return True
    return bool(hinted & CONFIG_KINDS) and bool(_CONFIG_NAME.search(path.rsplit("/", 1)[-1]))
