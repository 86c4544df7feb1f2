"""One search answer as live traffic gets it: organic results, then the brand zone beside them.

Routes and audits both call `answer`, so an audit measures exactly what a shopper would see.
"""

from __future__ import annotations

from typing import Any

from search_api.brands import brand_zone
from search_api.retrieval import hybrid
from search_api.retrieval.params import SearchRequest
from search_api.retrieval.runtime import Runtime


def answer(rt: Runtime, req: SearchRequest) -> dict[str, Any]:
    """Organic results (never altered by the zone), the brand zone or None, and meta.

    The zone (brand-keyword lookup, then its own search) runs beside the organic search: the two
    mostly wait on Elasticsearch, and they share the query's encoding (`rt.embedder`, a
    `QueryVectors`, encodes a text once even when both ask at the same time).
    """
    zone = rt.zone_pool.submit(_zone, rt, req) if brand_zone.wants_zone(req) else None
    body = hybrid.search(rt, req)
    return {"results": body.pop("results"), "brand_zone": zone.result() if zone else None, **body}


def _zone(rt: Runtime, req: SearchRequest) -> dict[str, Any] | None:
    hits = brand_zone.zone_candidates(rt.es, rt.settings.brand_keywords_alias, req)
    return brand_zone.build_zone(req, hits, lambda r, landing: hybrid.search(rt, r, zone=True, landing=landing))
