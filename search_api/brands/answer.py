"""One search answer as live traffic gets it: organic results, then the brand zone beside them.

Routes and audits both call `answer`, so an audit measures exactly what a shopper would see.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from search_api.analytics.records import Asked, query_record
from search_api.brands import brand_zone
from search_api.retrieval import hybrid
from search_api.retrieval.params import SearchRequest
from search_api.retrieval.runtime import Runtime


def answer(rt: Runtime, req: SearchRequest, *, origin: str | None = None, raw: str | None = None) -> dict[str, Any]:
    """Organic results (never altered by the zone), the brand zone or None, and meta.

    The zone (brand-keyword lookup, then its own search) runs beside the organic search: the two
    mostly wait on Elasticsearch, and they share the query's encoding (`rt.embedder`, a
    `QueryVectors`, encodes a text once even when both ask at the same time). With an `origin`
    (`search`, `audit`) the answer gets a `meta.query_id` and is logged (`analytics.querylog`);
    `raw` is the query as typed.
    """
    zone = rt.zone_pool.submit(_zone, rt, req) if brand_zone.wants_zone(req) else None
    body = hybrid.search(rt, req)
    out = {"results": body.pop("results"), "brand_zone": zone.result() if zone else None, **body}
    if origin is not None and rt.settings.query_log:
        query_id = uuid.uuid4().hex
        out["meta"]["query_id"] = query_id
        rt.query_log.record(query_record(query_id, origin, asked(req, raw), out, datetime.now(UTC)))
    return out


def asked(req: SearchRequest, raw: str | None) -> Asked:
    """The request as the query log records it."""
    filters = [f"brand:{b}" for b in req.brands] + [f"category:{c}" for c in req.categories]
    filters += [f"{name}:{value:g}" for name, value in (("price_min", req.price_min), ("price_max", req.price_max))
                if value is not None]
    return Asked(q=req.q, raw=raw, mode=str(req.mode), sort=str(req.sort), filters=filters, user_id=req.user_id,
                 offset=req.offset, size=req.size)


def _zone(rt: Runtime, req: SearchRequest) -> dict[str, Any] | None:
    hits = brand_zone.zone_candidates(rt.es, rt.settings.brand_keywords_alias, req)
    return brand_zone.build_zone(req, hits, lambda r, landing: hybrid.search(rt, r, zone=True, landing=landing))
