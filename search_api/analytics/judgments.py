"""Graded judgments from the query log and its clicks, corrected for position bias.

Click model: clicks over expected clicks (COEC). Shoppers click the top more whatever it holds,
so a product's clicks for a query are compared with what an average product would have received
at the positions it was shown: expected = Σ over its impressions of the CTR at that position
(measured over the whole window). COEC ≥ 2 → gain 3, ≥ 1 → 2, ≥ 0.5 → 1, else 0; a product
needs `min_impressions` impressions for the query to be judged at all. Output: the ESCI judgment
format (`[{"query", "ratings": {id: gain}}]`), so `search-api eval` scores either kind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.helpers import scan

from indexer.index_format import engine_errors
from search_api.core.settings import ApiSettings

GRADES = ((2.0, 3), (1.0, 2), (0.5, 1))
"""(COEC at least, gain), best first; below the last, gain 0."""
MAX_POSITION = 100
"""Impressions deeper than this are not counted (few shoppers page that far)."""


def _docs(es: Elasticsearch, index: str, query: dict[str, Any], fields: list[str]) -> Iterator[dict[str, Any]]:
    with engine_errors(f"reading {index}"):
        for hit in scan(es, index=index, query={"query": query, "_source": fields}, ignore_unavailable=True,
                        allow_no_indices=True, size=1000):
            yield hit["_source"]


def grade(coec: float) -> int:
    """The gain a COEC earns."""
    return next((gain for floor, gain in GRADES if coec >= floor), 0)


def click_judgments(es: Elasticsearch, settings: ApiSettings, *, days: int, min_impressions: int = 5,
                    now: datetime | None = None) -> list[dict[str, Any]]:
    """Judgments for every logged query with a judged product, queries in alphabetical order.

    Raises:
        EngineError: Elasticsearch failed.

    """
    since = ((now or datetime.now(UTC)) - timedelta(days=days)).isoformat()
    window = {"range": {"ts": {"gte": since}}}
    shown: dict[tuple[str, str], list[int]] = defaultdict(list)
    impressions: dict[int, int] = defaultdict(int)
    logged = {"bool": {"filter": [window, {"term": {"origin": "search"}}]}}
    for doc in _docs(es, settings.queries_alias, logged, ["q", "offset", "results"]):
        for i, product in enumerate(doc.get("results") or [], start=doc.get("offset", 0) + 1):
            if i <= MAX_POSITION:
                shown[(doc["q"], product)].append(i)
                impressions[i] += 1
    clicks: dict[tuple[str, str], int] = defaultdict(int)
    at: dict[int, int] = defaultdict(int)
    clicked = {"bool": {"filter": [window, {"term": {"action": "click"}}, {"exists": {"field": "query"}}]}}
    for doc in _docs(es, settings.events_alias, clicked, ["query", "product_id", "position"]):
        clicks[(doc["query"], doc["product_id"])] += 1
        at[doc.get("position") or 0] += 1
    ctr = {p: at.get(p, 0) / n for p, n in impressions.items()}
    ratings: dict[str, dict[str, int]] = defaultdict(dict)
    for (q, product), positions in shown.items():
        if len(positions) >= min_impressions:
            expected = sum(ctr.get(p, 0.0) for p in positions)
            ratings[q][product] = grade(clicks.get((q, product), 0) / expected) if expected else 0
    return [{"query": q, "ratings": ratings[q]} for q in sorted(ratings) if any(ratings[q].values())]
