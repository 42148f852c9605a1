"""What the embedding model reads: short descriptions built to fit a token budget.

The embedder manages about 115 texts a second at 64 tokens and 50 at 128 on two cores, so
embedding the full text of tens of thousands of chunks would take many minutes; BM25 reads all of
every chunk instead, and the dense index gets two kinds of short descriptions ("cards"):

- one card per file (128 tokens): its path, its symbols or headings, then its most distinctive
  words by TF-IDF. It tells the model what the whole file is about, for every file.
- one card per definition-like chunk (64 tokens): API routes, classes, SQL tables/types/views,
  interfaces and enums, OpenAPI operations, configuration blocks and top-level documentation
  sections. Its path, symbol, route and docstring come first, then the distinct words the chunk
  uses, in order of first use. These are the chunks platform questions are usually about
  ("which endpoint", "what fields", "what is the limit"), and they are a fraction of all chunks.

Measured on the Course Creator development questions (see bench/README.md), this costs a third of
the embedding time of a card for every chunk and retrieves as well once fused with BM25.

A card is cut to its budget on purpose, counted with the model's tokenizer: the budget is chosen
here, so the embedder's refusal of over-long texts (its guard against silent truncation) never
triggers for cards.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

from indexing.catalog import DenseUnit
from indexing.chunk import Chunk
from indexing.lexical import STOP_WORDS
from indexing.tokens import TokenCounter

CHUNK_CARD_TOKENS = 62  # + [CLS] and [SEP] = 64
FILE_CARD_TOKENS = 126  # + 2 = 128
FILE_CARD_WORDS = 80
CARD_VERSION = "cards-v1"

DEFINITION_UNITS = frozenset(
    {
        "route", "class", "interface", "enum", "type", "operation", "create table", "create type",
        "create view", "create materialized view", "create function", "create domain",
    }
)  # fmt: skip
CONFIG_KINDS = frozenset({"yaml", "json", "toml", "ini"})

_WORD = re.compile(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def words(text: str) -> list[str]:
    """Lower-case words with identifiers split at case changes and underscores."""
    return [w.lower() for w in _WORD.findall(text)]


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if len(w) > 2 and w not in STOP_WORDS]


def wants_chunk_card(chunk: Chunk) -> bool:
    if chunk.metadata.get("test"):
        return False
    if chunk.unit in DEFINITION_UNITS or chunk.kind in CONFIG_KINDS:
        return True
    return chunk.kind == "markdown" and int(chunk.metadata.get("level", 9)) <= 2


def _path_words(path: str) -> str:
    return " ".join(words(path.rsplit(".", 1)[0]))


def chunk_card(chunk: Chunk, counter: TokenCounter) -> str:
    head = _path_words(chunk.path)
    if chunk.symbol:
        head += " | " + " ".join(words(chunk.symbol))
    route = chunk.metadata.get("route")
    if route:
        head += " | " + str(route)
    doc = chunk.metadata.get("doc")
    if doc:
        head += " | " + str(doc)
    body = " ".join(dict.fromkeys(content_words(chunk.text)))
    return counter.prefix(f"{head} | {body}", CHUNK_CARD_TOKENS)


def file_card(
    path: str,
    symbols: Sequence[str],
    word_counts: Mapping[str, int],
    document_frequency: Mapping[str, int],
    n_files: int,
    counter: TokenCounter,
) -> str:
    """Path, symbols, then the words that set this file apart from the rest of the codebase."""

    def weight(word: str) -> float:
        df = max(1, document_frequency.get(word, 1))
        return (1.0 + math.log(word_counts[word])) * math.log((n_files + 1) / df)

    top = sorted(word_counts, key=lambda w: (-weight(w), w))[:FILE_CARD_WORDS]
    names = " ".join(dict.fromkeys(w for s in symbols for w in words(s.split(" > ")[-1])))
    return counter.prefix(f"{_path_words(path)} | {names[:400]} | {' '.join(top)}", FILE_CARD_TOKENS)


def file_word_counts(chunks: Sequence[Chunk]) -> dict[str, int]:
    return dict(Counter(w for c in chunks for w in content_words(c.text)))


def chunk_units(path: str, chunks: Sequence[Chunk], counter: TokenCounter) -> list[DenseUnit]:
    return [DenseUnit(c.id, path, c.id, chunk_card(c, counter)) for c in chunks if wants_chunk_card(c)]


def file_unit(path: str, text: str) -> DenseUnit:
    digest = hashlib.sha1(f"{path}\n{text}".encode()).hexdigest()
    return DenseUnit(f"file:{digest}", path, None, text)


def cache_key(model_id: str, text: str) -> str:
    return hashlib.sha1(f"{model_id}\n{CARD_VERSION}\n{text}".encode()).hexdigest()
