"""Hybrid search: keyword and semantic legs run concurrently, fused by RRF, then hydrated.

With a profile (`user_id` or inline `history`), the legs are personalised as `personalize`
describes; a request without usable history takes exactly the unpersonalised path.

The keyword leg waits on Elasticsearch in a pool thread while the request thread encodes the
query and searches FAISS, so a hybrid query costs about max(keyword, encode + ANN), not the sum.
A profile is built first on that same pool thread (the keyword boosts need it), so its reads
overlap the encoding too; the semantic leg takes it once the query vector is ready.
Both legs read the same concrete index version (the one the vector replica loaded), so their ids
always agree even while an alias swap is in progress.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from typing import Any

import numpy as np

from indexer.index_format import IndexerError
from search_api.core.errors import Unavailable
from search_api.personal.personalize import keyword_factor, keyword_functions
from search_api.personal.profile import Profile
from search_api.retrieval import keyword, semantic
from search_api.retrieval.fusion import rrf
from search_api.retrieval.hydrate import display, eligible
from search_api.retrieval.keyword import LegResult
from search_api.retrieval.params import SearchRequest
from search_api.retrieval.runtime import Runtime
from search_api.retrieval.semantic import vectors_of

SORT_KEYS = {
    "price_asc": ("price", False),
    "price_desc": ("price", True),
    "sales": ("sales", True),
    "rating": ("rating", True),
}


def _sorted(ids: list[str], docs: dict[str, dict[str, Any]], sort: str) -> list[str]:
    """Re-order relevant candidates by a field; missing values go last, relevance breaks ties."""
    if sort == "relevance":
        return ids
    field, descending = SORT_KEYS[sort]
    present = [i for i in ids if docs[i].get(field) is not None]
    missing = [i for i in ids if docs[i].get(field) is None]
    present.sort(key=lambda i: docs[i][field], reverse=descending)  # stable: keeps relevance order
    return present + missing


def _profile(rt: Runtime, req: SearchRequest) -> tuple[Profile | None, str | None]:
    """The request's profile and the `personal` leg status (None, None: not asked for)."""
    if req.history is None and not req.user_id:
        return None, None
    try:
        if req.history is not None:
            profile = rt.profiles.from_history(req.history)
        else:
            profile = rt.profiles.for_user(req.user_id or "")
    except IndexerError as exc:  # personalisation is a bonus: search on without it
        return None, f"failed: {exc}"
    return profile, ("ok" if not profile.empty else "no history")


def _usable(profile: Profile | None) -> Profile | None:
    """The profile to personalise by: None without one or when it knows no viewed product."""
    return profile if profile is not None and not profile.empty else None


def _affinity(live_vectors: Any, ids: list[str], profile: np.ndarray) -> dict[str, float]:
    """cos(profile, item) for the candidates that have vectors."""
    if live_vectors is None or not ids:
        return {}
    found, matrix = vectors_of(live_vectors, ids)
    return dict(zip(found, (matrix @ profile).tolist(), strict=True)) if found else {}


def _personal_then_keyword(rt: Runtime, req: SearchRequest, index: str,
                           profile_box: Future[tuple[Profile | None, str | None]]) -> LegResult | None:
    """Build the profile (if asked for), hand it over, then run the keyword leg boosted by it.

    One pool thread does both in order, so the profile's Elasticsearch read overlaps the request
    thread's query encoding instead of delaying it.
    """
    if not profile_box.done():
        try:
            profile_box.set_result(_profile(rt, req))
        except BaseException as exc:
            profile_box.set_exception(exc)
            raise
    if req.mode not in ("hybrid", "keyword"):
        return None
    personal = _usable(profile_box.result()[0])
    settings = rt.settings
    size = max(settings.keyword_candidates, req.offset + req.size)
    if personal is not None and personal.vector is not None and req.mode == "hybrid" \
            and not rt.embedder.readable(req.q):
        size = max(size, settings.personal_gate_depth)  # the profile leg picks from these
    functions = keyword_functions(personal, settings) if personal is not None else None
    return keyword.search(rt.es, index, req, size=size, functions=functions, max_boost=settings.personal_max_boost)


def search(rt: Runtime, req: SearchRequest) -> dict[str, Any]:
    """Answer one search request with results and meta (see API.md).

    Raises:
        Unavailable: no live index, or every requested leg failed.

    """
    started = time.perf_counter()
    settings = rt.settings
    try:
        live = rt.replica.current()
    except IndexerError as exc:
        raise Unavailable(f"search index unavailable: {exc}") from exc
    if live is None:
        raise Unavailable(f"no live index behind alias {settings.products_alias}; run `indexer build`")
    depth = req.offset + req.size
    legs: dict[str, str] = {}
    results: dict[str, LegResult] = {}
    wants_profile = req.history is not None or bool(req.user_id)
    profile_box: Future[tuple[Profile | None, str | None]] = Future()
    if not wants_profile:
        profile_box.set_result((None, None))
    future = None
    if wants_profile or req.mode in ("hybrid", "keyword"):
        future = rt.pool.submit(_personal_then_keyword, rt, req, live.index, profile_box)
    query_vector: np.ndarray | None = None
    if req.mode in ("hybrid", "semantic"):
        if live.vectors is None:
            legs["semantic"] = f"failed: {live.error}"
        else:
            try:  # while the pool thread builds the profile and waits on Elasticsearch
                query_vector, legs["semantic"] = semantic.encode(rt.embedder, req.q)
            except Exception as exc:  # a broken model must not take keyword search down
                legs["semantic"] = f"failed: {type(exc).__name__}"
    profile, personal_status = profile_box.result()
    personal = _usable(profile)
    taste = personal.vector if personal is not None else None
    if personal_status:
        legs = {"personal": personal_status, **legs}
    if query_vector is not None and live.vectors is not None:
        try:
            leg, legs["semantic"] = semantic.search(live.vectors, query_vector,
                                                    size=max(settings.semantic_candidates, depth),
                                                    profile=taste, alpha=settings.personal_alpha,
                                                    gate_depth=settings.personal_gate_depth,
                                                    gate_ratio=settings.personal_gate_ratio)
            results["semantic"] = leg
        except Exception as exc:  # a broken replica must not take keyword search down
            legs["semantic"] = f"failed: {type(exc).__name__}"
    if future is not None:  # it returns None when it only built the profile (semantic mode)
        try:
            keyword_leg = future.result()
        except IndexerError as exc:
            legs["keyword"] = f"failed: {exc}"
        else:
            if keyword_leg is not None:
                results["keyword"] = keyword_leg
                legs["keyword"] = "ok" if personal is None else "ok (personalised)"
    if (taste is not None and req.mode == "hybrid" and "semantic" not in results
            and legs.get("semantic", "").startswith("skipped") and "keyword" in results
            and live.vectors is not None):
        # the model cannot read the query, but it can still say which matches look like what
        # the shopper viewed: "items like yours", among the keyword leg's candidates only
        results["profile"] = semantic.profile_leg(live.vectors, results["keyword"].ids, taste,
                                                  gate_ratio=settings.personal_gate_ratio)
        legs["profile"] = "ok"
    failed = [name for name, status in legs.items() if status.startswith("failed")]
    if not results and failed:
        raise Unavailable("every retrieval leg failed: " + "; ".join(f"{n} {legs[n]}" for n in failed))

    if req.mode == "hybrid" and len(results) > 1:
        fused = rrf({name: leg.ids for name, leg in results.items()}, k=settings.rrf_k,
                    weights={"keyword": 1.0, "semantic": settings.semantic_weight,
                             "profile": settings.personal_profile_weight})
    else:
        only = next(iter(results.values()), LegResult([], []))
        fused = list(zip(only.ids, only.scores, strict=True))
    affinity: dict[str, float] = {}
    if taste is not None:
        affinity = _affinity(live.vectors, [doc_id for doc_id, _ in fused], taste)
        if settings.personal_tiebreak > 0:
            order = {doc_id: i for i, (doc_id, _) in enumerate(fused)}
            fused = sorted(((d, s + settings.personal_tiebreak * affinity.get(d, 0.0)) for d, s in fused),
                           key=lambda item: (-item[1], order[item[0]]))
    scores = dict(fused)
    try:
        if req.mode == "keyword" and req.sort == "relevance":
            ordered = [doc_id for doc_id, _ in fused]  # the keyword leg applied the filters itself
        else:
            values = eligible(rt.es, live.index, [doc_id for doc_id, _ in fused], req)
            ordered = _sorted([doc_id for doc_id, _ in fused if doc_id in values], values, req.sort)
        docs = display(rt.es, live.index, ordered[req.offset:depth])
    except IndexerError as exc:
        raise Unavailable(f"could not fetch products: {exc}") from exc
    ranks = ({name: {doc_id: (i + 1, leg.scores[i]) for i, doc_id in enumerate(leg.ids)}
              for name, leg in results.items()} if req.explain else {})

    page = []
    for doc_id in ordered[req.offset:depth]:
        if doc_id not in docs:  # deleted between the legs and the fetch
            continue
        item = dict(docs[doc_id])
        item["id"] = doc_id
        item["score"] = round(scores[doc_id], 6)
        if req.explain:
            item["explain"] = {name: ({"rank": r[doc_id][0], "score": round(r[doc_id][1], 6)}
                                      if doc_id in r else None) for name, r in ranks.items()}
            if personal is not None:
                item["explain"]["personal"] = _explain_personal(item, personal, affinity.get(doc_id),
                                                                settings)
        page.append(item)
    total = results["keyword"].total if "keyword" in results else len(ordered)
    return {
        "results": page,
        "meta": {
            "total": max(total, len(ordered)) if req.mode == "hybrid" else total,
            "took_ms": round((time.perf_counter() - started) * 1000, 2),
            "index_version": live.index,
            "mode": req.mode,
            "legs": legs,
            "personalised": personal is not None,
            **({"profile": {"source": "history" if req.history is not None else "user",
                            **(profile.describe() if profile else {})}} if personal_status else {}),
            "degraded": bool(failed),
        },
    }


def _explain_personal(item: dict[str, Any], profile: Profile, cos: float | None,
                      settings: Any) -> dict[str, Any]:
    """Each personal boost one result received."""
    category = item.get("category") or [None]
    factor, reasons = keyword_factor(item.get("brand"), category[-1], profile, settings)
    out: dict[str, Any] = {"keyword_factor": round(factor, 4), "reasons": reasons}
    if cos is not None:
        out["profile_cos"] = round(cos, 4)
        out["tiebreak"] = round(settings.personal_tiebreak * cos, 8)
    return out
