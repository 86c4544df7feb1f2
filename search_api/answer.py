"""One search answer as live traffic gets it: organic results, then the brand zone beside them.

Routes and audits both call `answer`, so an audit measures exactly what a shopper would see.
"""

from __future__ import annotations

from typing import Any

from search_api import brand_zone, hybrid
from search_api.params import SearchRequest
from search_api.runtime import Runtime


def answer(rt: Runtime, req: SearchRequest) -> dict[str, Any]:
    """Organic results (never altered by the zone), the brand zone or None, and meta.

    The brand-keyword lookup runs beside the organic search; the zone's own search comes after
    (it reuses the query vector the organic search encoded).
    """
    lookup = rt.pool.submit(brand_zone.zone_candidates, rt.es, rt.settings.brand_keywords_alias, req) \
        if brand_zone.wants_zone(req) else None
    body = hybrid.search(rt, req)
    hits = lookup.result() if lookup else []
    zone = brand_zone.build_zone(req, hits, lambda r: hybrid.search(rt, r))
    return {"results": body.pop("results"), "brand_zone": zone, **body}
