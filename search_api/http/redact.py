"""What a search answer may tell its caller.

Personalised search is public (`user_id=` needs no key), but a stored shopper's profile is not:
without an API key holding `profiles:read` (or `admin`), `meta.profile` (top brands and
categories, last activity) and each result's `explain.personal` (reasons such as "brand affinity
0.40 (棉语)") are removed from an answer personalised by `user_id`, as `GET /users/<id>/profile`
would refuse that caller. The ranking itself stays personalised. A profile built from an inline
`history` is the caller's own and stays.

For every caller, a failed leg says only `failed`: its detail can be Elasticsearch's own error
text, which is logged instead. Our own reasons (`legs.PUBLIC_FAILURES`: `failed: timeout`) stay.
"""

from __future__ import annotations

import logging
from typing import Any

from search_api.retrieval.legs import PUBLIC_FAILURES, LegStatus

PUBLIC_STATUSES = frozenset(LegStatus.failure(reason).render() for reason in PUBLIC_FAILURES)
"""Failed-leg statuses shown as they are (`failed: timeout`)."""

log = logging.getLogger(__name__)


def public_answer(body: dict[str, Any], *, show_profile: bool) -> dict[str, Any]:
    """`body` (changed in place) fit for its caller: without the shopper's profile unless `show_profile`."""
    meta = body.get("meta") or {}
    legs = meta.get("legs") or {}
    for name, status in legs.items():
        if isinstance(status, str) and status.startswith("failed:") and status not in PUBLIC_STATUSES:
            log.warning("search leg %s %s", name, status)
            legs[name] = "failed"
    if show_profile:
        return body
    meta.pop("profile", None)
    zone = body.get("brand_zone") or {}
    for result in [*body.get("results", ()), *zone.get("products", ())]:
        explain = result.get("explain")
        if isinstance(explain, dict):
            explain.pop("personal", None)
    return body
