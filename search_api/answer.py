"""One search answer as live traffic gets it: organic results, then the brand zone beside them.

Routes and audits both call `answer`, so an audit measures exactly what a shopper would see.
"""

from __future__ import annotations

from typing import Any

from search_api import brand_zone, hybrid
from search_api.params import SearchRequest
from search_api.runtime import Runtime


def answer(rt: Runtime, req: SearchRequest) -> dict[str, Any]:
    """Organic results (never altered by the zone), the brand zone or None, and meta."""
    body = hybrid.search(rt, req)
    zone = brand_zone.build_zone(rt.es, rt.settings.brand_keywords_alias, req, lambda r: hybrid.search(rt, r))
    return {"results": body.pop("results"), "brand_zone": zone, **body}
