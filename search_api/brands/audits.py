"""Brand-keyword ranking audits: brands × keywords × personas through the live search path.

Every cell is one `answer()` call — the function `/search` itself calls — with the keyword as
the query and the persona's user id or inline history, so what an audit records is what that
shopper would see. A cell records whether a brand zone was shown and for whom, the brand's
best organic rank, its products in the top 10 and top k, its share of the shelf (share of top
k), their ranks and ids, the index version and the time. What to audit is `audit_spec.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from indexer.index_format import normalize
from search_api.brands.answer import answer
from search_api.brands.audit_spec import AuditSpec, Persona
from search_api.retrieval.params import SearchRequest
from search_api.retrieval.runtime import Runtime


def measure(response: Mapping[str, Any], brand: str, top_k: int) -> dict[str, Any]:
    """A cell's metrics from one search answer."""
    results = response["results"][:top_k]
    mine = [(i + 1, r["id"]) for i, r in enumerate(results) if r.get("brand") == brand]
    zone = response.get("brand_zone")
    return {
        "zone_shown": zone is not None,
        "zone_brand": zone["brand"] if zone else None,
        "zone_keyword": zone["keyword"] if zone else None,
        "zone_won": bool(zone and zone["brand"] == brand),
        "best_rank": mine[0][0] if mine else None,
        "top10": sum(1 for rank, _ in mine if rank <= 10),
        "topk": len(mine),
        "share": round(len(mine) / len(results), 4) if results else 0.0,
        "ranks": [rank for rank, _ in mine],
        "ids": [pid for _, pid in mine],
        "results": len(results),
        "index_version": response["meta"]["index_version"],
        "rules": [rule["id"] for rule in response["meta"].get("rules", [])],
    }


def cell_request(keyword: str, persona: Persona, top_k: int) -> SearchRequest:
    """The search a cell runs: the keyword as typed by this persona, first page of `top_k`."""
    return SearchRequest(q=normalize(keyword), size=top_k, user_id=persona.user_id, history=persona.history)


@dataclass
class AuditRun:
    """A finished (or failed) audit."""

    id: str
    spec: AuditSpec
    created: str
    cells: list[dict[str, Any]] = field(default_factory=list)
    status: str = "running"
    error: str | None = None
    seconds: float = 0.0
    search_seconds: float = 0.0

    def document(self) -> dict[str, Any]:
        """The stored form (also the JSON export)."""
        versions = sorted({c["index_version"] for c in self.cells})
        return {"id": self.id, "name": self.spec.name, "created": self.created, "status": self.status,
                "error": self.error, "top_k": self.spec.top_k,
                "personas": [p.describe() for p in self.spec.personas],
                "brands": sorted({b for b, _ in self.spec.pairs}),
                "keywords": sorted({k for _, k in self.spec.pairs}),
                "cell_count": self.spec.cells, "done": len(self.cells), "index_versions": versions,
                "seconds": round(self.seconds, 3), "search_seconds": round(self.search_seconds, 3),
                "cells": self.cells}


def new_run(spec: AuditSpec) -> AuditRun:
    """A run with a sortable, unique id."""
    now = datetime.now(UTC)
    return AuditRun(id=now.strftime("a%Y%m%dt%H%M%S%f"), spec=spec, created=now.isoformat(timespec="seconds"))


def audit_answer(rt: Runtime, req: SearchRequest) -> dict[str, Any]:
    """`answer` for one audit cell: logged with origin `audit`, so analytics can leave it out."""
    return answer(rt, req, origin="audit")


def run(rt: Runtime, audit: AuditRun, progress: Callable[[int], None] | None = None,
        search: Callable[[Runtime, SearchRequest], dict[str, Any]] | None = None) -> AuditRun:
    """Run every cell in order (brand, keyword, persona) through `search` (default: `audit_answer`)."""
    search = search or audit_answer
    started = time.perf_counter()
    spec = audit.spec
    try:
        for brand, keyword in spec.pairs:
            for persona in spec.personas:
                t0 = time.perf_counter()
                response = search(rt, cell_request(keyword, persona, spec.top_k))
                audit.search_seconds += time.perf_counter() - t0
                audit.cells.append({"brand": brand, "keyword": keyword, "persona": persona.label,
                                    **measure(response, brand, spec.top_k),
                                    "time": datetime.now(UTC).isoformat(timespec="seconds")})
                if progress:
                    progress(1)
        audit.status = "done"
    except Exception as exc:  # recorded on the run; the caller decides whether to raise
        audit.status, audit.error = "failed", f"{type(exc).__name__}: {exc}"
    audit.seconds = time.perf_counter() - started
    return audit


def compare(base: Mapping[str, Any], head: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per-cell deltas between two runs (head − base; a negative rank delta moved up)."""
    def key(c: Mapping[str, Any]) -> tuple[str, str, str]:
        return (c["brand"], c["keyword"], c["persona"])

    before = {key(c): c for c in base["cells"]}
    out = []
    for cell in head["cells"]:
        old = before.get(key(cell))
        if old is None:
            continue
        b, h = old["best_rank"], cell["best_rank"]
        out.append({
            "brand": cell["brand"], "keyword": cell["keyword"], "persona": cell["persona"],
            "best_rank_base": b, "best_rank_head": h,
            "rank_delta": (h - b) if b is not None and h is not None else None,
            "entered": b is None and h is not None, "left": b is not None and h is None,
            "top10_delta": cell["top10"] - old["top10"], "share_delta": round(cell["share"] - old["share"], 4),
            "zone_base": old["zone_brand"], "zone_head": cell["zone_brand"],
            "index_version_base": old["index_version"], "index_version_head": cell["index_version"],
        })
    return out
