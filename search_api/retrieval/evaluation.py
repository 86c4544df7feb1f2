"""Offline relevance evaluation against graded judgments.

ESCI gains: 3 Exact, 2 Substitute, 1 Complement, 0 Irrelevant; unjudged results count as 0.

Metrics: nDCG@10 with linear gains (DCG = Σ gain_i / log2(i + 1), ideal order from all judged
products of the query), Recall@100 and MRR where "relevant" means gain ≥ 1.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from indexer.index_format import ConfigError
from search_api.retrieval import hybrid
from search_api.retrieval.params import parse_search
from search_api.retrieval.runtime import Runtime

RELEVANT_GAIN = 1


@dataclass(frozen=True)
class Judged:
    """One query with graded judgments of catalog products."""

    query: str
    ratings: Mapping[str, int]


def load_judgments(path: Path) -> list[Judged]:
    """Read `[{"query", "ratings": {id: gain}}]` (ESCI or click-derived).

    Raises:
        ConfigError: the file is missing, not JSON, or not that shape (names the entry).

    """
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read judgments: {exc}") from None
    if not isinstance(rows, list):
        raise ConfigError(f"{path}: judgments must be a JSON array of {{query, ratings}}")
    out = []
    for i, row in enumerate(rows):
        try:
            out.append(Judged(str(row["query"]), {str(k): int(v) for k, v in row["ratings"].items()}))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ConfigError(f"{path}: entry {i} is not {{\"query\": text, \"ratings\": {{id: gain}}}}") from None
    return out


def ndcg_at(ranked: Sequence[str], ratings: Mapping[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain of the top k (0 when nothing is relevant)."""
    dcg = sum(ratings.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted(ratings.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: Sequence[str], ratings: Mapping[str, int], k: int = 100) -> float:
    """Share of relevant judged products found in the top k."""
    relevant = {doc for doc, gain in ratings.items() if gain >= RELEVANT_GAIN}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked: Sequence[str], ratings: Mapping[str, int]) -> float:
    """1 / rank of the first relevant result (0 when none)."""
    for i, doc in enumerate(ranked, start=1):
        if ratings.get(doc, 0) >= RELEVANT_GAIN:
            return 1.0 / i
    return 0.0


@dataclass(frozen=True)
class Scores:
    """Mean metrics of one mode over a query set."""

    mode: str
    ndcg10: float
    recall100: float
    mrr: float
    queries: int
    per_query: tuple[float, ...] = ()
    """Each query's nDCG@10, in the judgments' order (paired comparisons)."""


def evaluate(rt: Runtime, judged: Sequence[Judged], mode: str) -> Scores:
    """Run every query through the live search path in `mode` and average the metrics."""
    ndcgs: list[float] = []
    recall = mrr = 0.0
    for item in judged:
        out = hybrid.search(rt, parse_search({"q": item.query, "mode": mode, "size": 100}))
        ranked = [r["id"] for r in out["results"]]
        ndcgs.append(ndcg_at(ranked, item.ratings))
        recall += recall_at(ranked, item.ratings)
        mrr += reciprocal_rank(ranked, item.ratings)
    n = max(len(judged), 1)
    return Scores(mode, sum(ndcgs) / n, recall / n, mrr / n, len(judged), tuple(ndcgs))
