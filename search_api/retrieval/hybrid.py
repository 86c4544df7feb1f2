"""Hybrid search: a pipeline of named steps from a request to its answer.

    live index → run legs → fuse → personal tie-break → merchandising rules → eligible set: count, facet,
    sort, page → describe

`schedule` runs the keyword and semantic legs concurrently (and builds the profile beside them);
`fusion` merges them by RRF; `merchandise` applies the rules the query matches (pin, hide, boost,
bury), widening the eligible set to the pinned products and taking the hidden ones out, and
passes everything through untouched when no rule matches; `eligible` states the set of products
the answer may show and `paging` counts, facets, sorts and hydrates one page of it; `describe`
writes the JSON. With a profile (`user_id` or inline `history`), the legs are personalised as
`personalize` describes; a request without usable history takes exactly the unpersonalised path.
"""

from __future__ import annotations

import time
from typing import Any

from indexer.index_format import IndexerError
from search_api.core import metrics
from search_api.core.errors import SearchUnavailable, Unavailable
from search_api.core.settings import ApiSettings
from search_api.retrieval import describe, ranker, semantic
from search_api.retrieval.eligible import eligible_query
from search_api.retrieval.fusion import Ranked, fuse, tie_break
from search_api.retrieval.legs import Retrieved
from search_api.retrieval.merchandise import apply_rules
from search_api.retrieval.paging import paginate
from search_api.retrieval.params import Fusion, Mode, SearchRequest, Sort
from search_api.retrieval.replica import Loaded
from search_api.retrieval.runtime import Runtime
from search_api.retrieval.schedule import run_legs


def live_index(rt: Runtime) -> Loaded:
    """The index version (and its vectors) this search reads.

    Raises:
        SearchUnavailable: the replica cannot say (Elasticsearch unreachable).
        Unavailable: no index is live yet.

    """
    try:
        live = rt.replica.current()
    except IndexerError as exc:
        raise SearchUnavailable(f"search index unavailable: {exc}") from exc
    if live is None:
        raise Unavailable(f"no live index behind alias {rt.settings.products_alias}; run `indexer build`")
    return live


def require_some_leg(retrieved: Retrieved) -> None:
    """Fail the search only when no leg produced results and some leg failed.

    Raises:
        SearchUnavailable: every requested leg failed.

    """
    failed = retrieved.failed
    if not retrieved.results and failed:
        raise SearchUnavailable("every retrieval leg failed: "
                          + "; ".join(f"{name} {retrieved.statuses[name].render()}" for name in failed))


def count_legs(retrieved: Retrieved) -> None:
    """Count every requested leg's outcome (before a search with no leg left fails)."""
    for name, status in retrieved.statuses.items():
        metrics.leg_outcome(name, status.outcome)


def request_fusion(req: SearchRequest, settings: ApiSettings) -> tuple[Fusion, float]:
    """How a hybrid search fuses, and the semantic leg's weight: the request's, else the settings'."""
    return (req.fusion or Fusion(settings.fusion),
            settings.semantic_weight if req.semantic_weight is None else req.semantic_weight)


def fused_ranking(req: SearchRequest, retrieved: Retrieved, settings: ApiSettings) -> Ranked:
    """The legs' results as one ranking (hybrid: the request's fusion, else the setting's)."""
    fusion, semantic_weight = request_fusion(req, settings)
    weights = {"keyword": 1.0, "semantic": semantic_weight, "profile": settings.personal_profile_weight}
    return fuse(retrieved.results, req.mode, k=settings.rrf_k, weights=weights, fusion=fusion)


def second_stage(rt: Runtime, req: SearchRequest, ranked: Ranked, retrieved: Retrieved,
                 live: Loaded) -> tuple[Ranked, ranker.Reranked | None, str]:
    """The fused ranking re-ordered by the second-stage model, and how that went (`meta.ranker`).

    Only for a relevance-ordered hybrid search with a model loaded, fused as the model was trained.
    A personalised search is re-ordered too, on its personalised legs (see `ranker`), unless its
    taste came through the profile leg (a query the model cannot read): no feature sees that leg,
    so re-ordering would undo the taste. If Elasticsearch cannot give the candidates' features, the
    fused order stands: a re-ranking is an improvement, never a reason to fail.
    """
    model = rt.ranker
    if model is None:
        return ranked, None, "off"
    if req.mode != Mode.HYBRID or req.sort != Sort.RELEVANCE:
        return ranked, None, "skipped: not a hybrid relevance search"
    if (profile := retrieved.results.get("profile")) is not None and profile.ids:
        return ranked, None, "skipped: profile leg"
    fusion, semantic_weight = request_fusion(req, rt.settings)
    if not model.trained_for(str(fusion), semantic_weight):
        return ranked, None, "skipped: another fusion"
    depth = rt.settings.ranker_depth
    head = [doc_id for doc_id, _ in ranked[:depth]]
    with metrics.timed("ranker"):
        try:
            pop = ranker.popularity(rt.es, live.index, head, req.q) if model.needs_catalog else {}
            cosine = (semantic.affinity(live.vectors, head, retrieved.query_vector)
                      if retrieved.query_vector is not None else {})  # a request on the ES backend
        except IndexerError as exc:
            return ranked, None, f"failed: {exc}"
        out = ranker.rerank(model, req.q, ranked, retrieved.results, pop, cosine, depth=depth,
                            explain=req.explain)
    return out.ranked, out, "ok"


def personal_order(ranked: Ranked, retrieved: Retrieved, live: Loaded,
                   settings: ApiSettings) -> tuple[Ranked, dict[str, float]]:
    """The ranking with near-ties broken by taste, and each candidate's cos to the taste vector.

    Without a usable taste vector the ranking is returned untouched (and no affinity).
    """
    personal = retrieved.personal
    if personal is None or personal.vector is None:
        return ranked, {}
    affinity = semantic.affinity(live.vectors, [doc_id for doc_id, _ in ranked], personal.vector)
    if settings.personal_tiebreak > 0:
        ranked = tie_break(ranked, affinity, settings.personal_tiebreak)
    return ranked, affinity


def search(rt: Runtime, req: SearchRequest, *, zone: bool = False, landing: tuple[str, ...] = ()) -> dict[str, Any]:
    """Answer one search request with results and meta (see API.md).

    `zone`: this search fills the brand zone beside an organic search; its steps and legs are
    counted like any other, but it is not an answer of its own (degraded answers count answers);
    `landing`: the zone keyword's landing products, shown first (see `merchandise`).

    Raises:
        Unavailable: no live index yet.
        SearchUnavailable: Elasticsearch unreachable, every requested leg failed, or products could not be fetched.

    """
    started = time.perf_counter()
    settings = rt.settings
    live = live_index(rt)
    retrieved = run_legs(rt, req, live)
    count_legs(retrieved)
    require_some_leg(retrieved)
    ranked, reranked, ranker_state = second_stage(rt, req, fused_ranking(req, retrieved, settings), retrieved, live)
    ranked, affinity = personal_order(ranked, retrieved, live, settings)
    ranked, applied = apply_rules(rt, live.index, req, ranked, zone=zone, landing=landing)
    page = paginate(rt.es, live.index, req, applied.widen(eligible_query(req, retrieved)),
                    [doc_id for doc_id, _ in ranked], settings)
    results = describe.result_items(req, page, dict(ranked), retrieved, affinity, settings)
    applied.explain(results)
    if reranked is not None and req.explain:
        for item in results:
            if item["id"] in reranked.scores:
                item["explain"]["ranker"] = {"score": round(reranked.scores[item["id"]], 4),
                                             "top_features": reranked.contributions.get(item["id"], {})}
    took_ms = round((time.perf_counter() - started) * 1000, 2)
    if retrieved.failed and not zone:
        metrics.degraded("+".join(retrieved.failed))
    facets = {"facets": page.facets} if page.facets is not None else {}
    return {"results": results, **facets,
            "meta": {**describe.meta(req, live.index, retrieved, page, took_ms, live.backend),
                     "rules": applied.describe(),
                     "fusion": str(request_fusion(req, settings)[0]) if req.mode == Mode.HYBRID else None,
                     "ranker": ranker_state}}
