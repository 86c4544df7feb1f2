"""One query-log record: what was asked, what the answer showed, how it was made."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from indexer.index_format import detect_language

ORIGINS = ("search", "audit")
"""`search`: shopper traffic through /search; `audit`: a brand-keyword audit cell (same path)."""


@dataclass(frozen=True)
class Asked:
    """The request side of a record, in plain values (the analytics layer knows no retrieval types)."""

    q: str
    raw: str | None
    mode: str
    sort: str
    filters: Sequence[str]
    user_id: str | None
    offset: int
    size: int
    facets: Sequence[str] = ()


def query_record(query_id: str, origin: str, asked: Asked, answer: Mapping[str, Any], ts: datetime) -> dict[str, Any]:
    """The log document of one answer (`answer` as `brands.answer` returns it, meta included)."""
    meta = answer.get("meta", {})
    results = [r["id"] for r in answer.get("results", [])]
    legs = meta.get("legs", {})
    zone = answer.get("brand_zone") or {}
    return {
        "query_id": query_id, "ts": ts.isoformat(timespec="milliseconds"), "origin": origin,
        "q": asked.q, "raw": asked.raw if asked.raw is not None else asked.q, "lang": detect_language(asked.q),
        "mode": asked.mode, "sort": asked.sort, "filters": list(asked.filters), "facets": list(asked.facets),
        "user_id": asked.user_id, "anonymous": not asked.user_id,
        "offset": asked.offset, "size": asked.size, "results": results,
        "first_position": asked.offset + 1, "last_position": asked.offset + len(results),
        "total": meta.get("total", 0), "legs": dict(legs),
        "failed_legs": sorted(name for name, status in legs.items() if str(status).startswith("failed")),
        "relaxed": meta.get("relaxed"), "corrected": meta.get("corrected"), "zero_result": not results,
        "personalised": bool(meta.get("personalised")), "degraded": bool(meta.get("degraded")),
        "brand_keyword": zone.get("keyword"), "index_version": meta.get("index_version"),
        "took_ms": meta.get("took_ms"),
    }
