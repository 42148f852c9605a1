"""What a retrieval returns: enough to show a chunk, cite it and explain why it was chosen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RetrievedChunk:
    chunk_id: str
    path: str
    kind: str
    unit: str
    symbol: str
    start_line: int
    end_line: int
    text: str
    metadata: dict[str, Any]
    score: float  # the fused score the ranking used
    # Per-ranker evidence: bm25 (raw BM25 of the chunk), bm25_rank, dense (cosine of the best
    # matching description), dense_rank (file rank among dense hits), rrf. Missing = no signal.
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def citation(self) -> str:
        return f"{self.path}:{self.start_line}-{self.end_line}"

    @property
    def title(self) -> str:
        route = self.metadata.get("route")
        return " ".join(p for p in (self.path, self.symbol, f"[{route}]" if route else "") if p)

    def as_dict(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk_id,
            "path": self.path,
            "kind": self.kind,
            "unit": self.unit,
            "symbol": self.symbol,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "text": self.text,
            "metadata": self.metadata,
            "score": self.score,
            "scores": self.scores,
            "citation": self.citation,
        }


@dataclass(frozen=True, slots=True)
class RetrievalResult:
    query: str
    chunks: list[RetrievedChunk]
    latency_ms: float
    index_generation: int
    # Why the results may be worse than usual, for the chat context panel and the search page to
    # show (a Chroma server that cannot be reached: keyword search only). Empty when all is well.
    warnings: tuple[str, ...] = ()
