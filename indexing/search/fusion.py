"""Fusing rankings of files: reciprocal rank fusion and per-file score aggregation.

Rankings are fused at the level of files, not chunks, because an answer is usually one file and
the retriever must return distinct files: a long file whose ten chunks all mention "track" should
count once, a little more than a file with one such chunk, and never fill the whole top ten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence


def aggregate_by_file(
    hits: Iterable[tuple[str, float]], second_weight: float = 0.5
) -> list[tuple[str, float]]:
    """(path, score) best first, where a file scores its best hit plus a share of its second.

    The share rewards files where the query matches in more than one place (the definition and
    its use), without letting many weak matches outrank one strong one.
    """
    per_file: dict[str, list[float]] = {}
    for path, score in hits:
        per_file.setdefault(path, []).append(score)
    scored = []
    for path, scores in per_file.items():
        scores.sort(reverse=True)
        scored.append((path, scores[0] + (second_weight * scores[1] if len(scores) > 1 else 0.0)))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[str]],
    weights: Mapping[str, float],
    k: int = 60,
    depth: int = 100,
) -> list[tuple[str, float]]:
    """Weighted RRF: score(d) = sum over rankers of weight / (k + rank(d)), ranks from 1.

    Only the first `depth` items of each ranking count, so a ranker's long tail adds nothing.
    Ties break by name so results are stable run to run.
    """
    scores: dict[str, float] = {}
    for name, ranking in rankings.items():
        weight = weights.get(name, 1.0)
        for rank, item in enumerate(ranking[:depth], start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))
