"""Name normalization shared by the uniqueness rules.

Project and track names are unique case-insensitively and regardless of spacing, so the
database stores a `name_key` next to the name and puts the unique constraint on the key.
Project slugs are derived from names the same way the real platform does (lower case, words
joined by hyphens) when the client sends none.
"""

from __future__ import annotations

import re
import unicodedata

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def name_key(name: str) -> str:
    """ "  Data   Science " and "data science" give the same key."""
    return " ".join(name.split()).casefold()


def clean_name(name: str) -> str:
    """Strip surrounding whitespace and collapse inner runs to one space."""
    return " ".join(name.split())


def slugify(text: str, max_length: int = 100) -> str:
    """ASCII, lower case, hyphen-separated; "Data Science: Foundations!" -> "data-science-foundations"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")
