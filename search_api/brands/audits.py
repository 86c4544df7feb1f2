"""Brand-keyword ranking audits: brands × keywords × personas through the live search path.

Every cell is one `answer()` call — the function `/search` itself calls — with the keyword as
the query and the persona's user id or inline history, so what an audit records is what that
shopper would see. A cell records whether a brand zone was shown and for whom, the brand's
best organic rank, its products in the top 10 and top k, its share of the shelf (share of top
k), their ranks and ids, the index version and the time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from indexer.index_format import normalize
from search_api.brands.answer import answer
from search_api.core.errors import InvalidParameter
from search_api.retrieval.params import MAX_QUERY_CHARS, MAX_SIZE, SearchRequest
from search_api.retrieval.runtime import Runtime

DEFAULT_TOP_K = 50
MAX_CELLS = 20_000
"""One run's cells: 100 brands × 20 keywords × 3 personas is 6,000."""
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Persona:
    """Who searches: nobody in particular, a stored user, or an inline viewing history."""

    label: str
    user_id: str | None = None
    history: tuple[Any, ...] | None = None

    def describe(self) -> dict[str, Any]:
        """How the persona is stored with a run."""
        kind = "user" if self.user_id else "history" if self.history is not None else ANONYMOUS
        out: dict[str, Any] = {"label": self.label, "kind": kind}
        if self.user_id:
            out["user_id"] = self.user_id
        if self.history is not None:
            out["history_events"] = len(self.history)
        return out


@dataclass(frozen=True)
class AuditSpec:
    """What to audit."""

    pairs: tuple[tuple[str, str], ...]
    """(brand, keyword)"""
    personas: tuple[Persona, ...]
    top_k: int = DEFAULT_TOP_K
    name: str = ""

    @property
    def cells(self) -> int:
        """Searches the audit will run."""
        return len(self.pairs) * len(self.personas)


def _strings(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(x, str) and x.strip() for x in value):
        raise InvalidParameter(f"{name} must be a list of non-empty strings", field=name)
    return [x.strip() for x in value]


def _pairs(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    if body.get("pairs") is not None:
        raw = body["pairs"]
        if not isinstance(raw, list):
            raise InvalidParameter("pairs must be a list of {brand, keyword}", field="pairs")
        pairs = []
        for i, item in enumerate(raw):
            if not isinstance(item, Mapping) or not all(isinstance(item.get(k), str) and item[k].strip()
                                                        for k in ("brand", "keyword")):
                raise InvalidParameter(f"pairs[{i}] needs a non-empty brand and keyword", field=f"pairs[{i}]")
            pairs.append((item["brand"].strip(), item["keyword"].strip()))
    else:
        brands = _strings(body.get("brands"), "brands")
        keywords = _strings(body.get("keywords"), "keywords")
        pairs = [(b, k) for b in brands for k in keywords]
    if not pairs:
        raise InvalidParameter("nothing to audit: give at least one brand and one keyword",
                               field="keywords" if body.get("pairs") is None else "pairs")
    for _, keyword in pairs:
        if len(normalize(keyword)) > MAX_QUERY_CHARS:
            raise InvalidParameter(f"keyword longer than {MAX_QUERY_CHARS} characters", field="keywords")
    return list(dict.fromkeys(pairs))


def parse_spec(body: Any, *, persona: Callable[[int, Mapping[str, Any]], Persona]) -> AuditSpec:
    """Validate an audit request; `persona(i, item)` resolves one persona (and raises for unknown ones).

    Raises:
        InvalidParameter: naming the field (`keywords`, `top_k`, `personas[2]`, …).

    """
    if not isinstance(body, Mapping):
        raise InvalidParameter("body must be a JSON object", field="body")
    pairs = _pairs(body)
    top_k = body.get("top_k", DEFAULT_TOP_K)
    if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= MAX_SIZE:
        raise InvalidParameter(f"top_k must be an integer between 1 and {MAX_SIZE}", field="top_k")
    raw = body.get("personas", [{"label": ANONYMOUS}])
    if not isinstance(raw, list) or not raw:
        raise InvalidParameter("personas must be a non-empty list", field="personas")
    personas = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise InvalidParameter("a persona is an object", field=f"personas[{i}]")
        personas.append(persona(i, item))
    labels = [p.label for p in personas]
    if len(set(labels)) != len(labels):
        raise InvalidParameter("persona labels must be unique", field="personas")
    name = body.get("name", "")
    if not isinstance(name, str) or len(name) > 200:
        raise InvalidParameter("name must be a string of at most 200 characters", field="name")
    spec = AuditSpec(tuple(pairs), tuple(personas), top_k, name)
    if spec.cells > MAX_CELLS:
        raise InvalidParameter(f"{spec.cells} cells is more than {MAX_CELLS}; split the audit", field="pairs")
    return spec


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


def run(rt: Runtime, audit: AuditRun, progress: Callable[[int], None] | None = None,
        search: Callable[[Runtime, SearchRequest], dict[str, Any]] = answer) -> AuditRun:
    """Run every cell in order (brand, keyword, persona) through `search` (the live `answer`)."""
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
