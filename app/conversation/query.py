"""The standalone search query for a message that may lean on earlier ones.

"And make it advanced" says nothing a search can use; together with "Create a beginner track for
Python" it does. A follow-up (short, or starting with a connective, or pointing back with "it",
"that", "them") is searched together with the previous user messages; a message that stands on
its own is searched as it is. Deterministic, instant, and no extra model call per turn.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

FOLLOW_UP_START = re.compile(
    r"^(and|also|but|or|then|so|what about|how about|same|instead|now|ok(ay)?|yes|no|sure|make it|"
    r"change it|do it|the (same|other|first|second|last)|it|that|this|those|these|they|them)\b",
    re.IGNORECASE,
)
BACK_REFERENCE = re.compile(r"\b(it|its|that one|this one|them|those|these|the same|there)\b", re.IGNORECASE)
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]+")
SHORT = 4  # content words


COMMAND_START = re.compile(
    r"^(please\s+)?(list|show|create|add|make|delete|remove|publish|enrol{1,2}|invite|onboard|assign|find|"
    r"search|explain|describe)\b",
    re.IGNORECASE,
)


def is_follow_up(message: str) -> bool:
    words = WORD.findall(message)
    if not words:
        return True
    if FOLLOW_UP_START.match(message.strip()):
        return True
    if COMMAND_START.match(message.strip()) and not BACK_REFERENCE.search(message):
        return False
    return len(words) <= SHORT or (len(words) <= 10 and bool(BACK_REFERENCE.search(message)))


def standalone_query(message: str, previous_user_messages: Sequence[str], max_chars: int = 600) -> str:
    """The text to search for this message (previous messages newest last)."""
    message = " ".join(message.split())
    if not previous_user_messages or not is_follow_up(message):
        return message[:max_chars]
    parts = [message]
    for earlier in reversed(previous_user_messages):
        parts.insert(0, " ".join(earlier.split()))
        if not is_follow_up(earlier) or sum(len(p) for p in parts) > max_chars:
            break
    return " ".join(parts)[-max_chars:]
