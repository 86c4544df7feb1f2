"""The search answer's JSON (see API.md): result items, their `explain`, and `meta`.

This is the one place typed pipeline values (leg statuses, modes) become the contract's shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from search_api.core.settings import ApiSettings
from search_api.personal.personalize import keyword_factor
from search_api.personal.profile import Profile
from search_api.retrieval.legs import LegResult, LegStatus, Retrieved
from search_api.retrieval.paging import Page
from search_api.retrieval.params import SearchRequest

Ranks = dict[str, dict[str, tuple[int, float]]]
"""Leg name → id → (1-based rank, native score) in that leg."""


def render_legs(statuses: Mapping[str, LegStatus]) -> dict[str, str]:
    """`meta.legs`: each leg's status as the answer spells it, in the given order."""
    return {name: status.render() for name, status in statuses.items()}


def leg_ranks(results: Mapping[str, LegResult]) -> Ranks:
    """Where each leg ranked each of its ids (for `explain`)."""
    return {name: {doc_id: (i + 1, leg.scores[i]) for i, doc_id in enumerate(leg.ids)}
            for name, leg in results.items()}


def explain_personal(item: Mapping[str, Any], profile: Profile, cos: float | None,
                     settings: ApiSettings) -> dict[str, Any]:
    """Each personal boost one result received."""
    category = item.get("category") or [None]
    factor, reasons = keyword_factor(item.get("brand"), category[-1], profile, settings)
    out: dict[str, Any] = {"keyword_factor": round(factor, 4), "reasons": reasons}
    if cos is not None:
        out["profile_cos"] = round(cos, 4)
        out["tiebreak"] = round(settings.personal_tiebreak * cos, 8)
    return out


def explain(doc_id: str, item: Mapping[str, Any], ranks: Ranks, personal: Profile | None,
            affinity: Mapping[str, float], settings: ApiSettings,
            understood: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """One result's rank and score in every leg (None where a leg missed it), and its boosts.

    Personal boosts with a profile; the recognised query parts it was boosted for (`understood`)
    when the query had any.
    """
    out: dict[str, Any] = {name: ({"rank": r[doc_id][0], "score": round(r[doc_id][1], 6)} if doc_id in r else None)
                           for name, r in ranks.items()}
    if personal is not None:
        out["personal"] = explain_personal(item, personal, affinity.get(doc_id), settings)
    if understood is not None:
        out["understood"] = understood
    return out


def boosted_for(doc_id: str, retrieved: Retrieved) -> list[dict[str, str]] | None:
    """The recognised parts a result's keyword match was boosted for (None: nothing was recognised)."""
    understood, keyword = retrieved.understood, retrieved.results.get("keyword")
    if understood is None or not understood.parts:
        return None
    matched = keyword.understood.get(doc_id, ()) if keyword is not None else ()
    return [understood.parts[i].describe() for i in matched if i < len(understood.parts)]


def result_items(req: SearchRequest, page: Page, scores: Mapping[str, float], retrieved: Retrieved,
                 affinity: Mapping[str, float], settings: ApiSettings) -> list[dict[str, Any]]:
    """The page's products with id and fused score (and `explain` when asked for)."""
    ranks = leg_ranks(retrieved.results) if req.explain else {}
    items = []
    for doc_id in page.ids:
        if doc_id not in page.docs:  # deleted between the legs and the fetch
            continue
        item = dict(page.docs[doc_id])
        item["id"] = doc_id
        item["score"] = round(scores.get(doc_id, 0.0), 6)  # 0: beyond the fused candidates
        if req.explain:
            item["explain"] = explain(doc_id, item, ranks, retrieved.personal, affinity, settings,
                                      boosted_for(doc_id, retrieved))
        items.append(item)
    return items


RELAXED_ORDER = ("most_terms", "any_term", "semantic")
"""`meta.relaxed` words from the least to the most relaxed."""


def relaxed(retrieved: Retrieved, page: Page) -> str | None:
    """`meta.relaxed`: the loosest match the page shows, or None when every shown match is strict.

    Keyword hits carry their level when the leg relaxed; with no keyword match at all, whatever the
    page shows came from the semantic leg alone.
    """
    keyword = retrieved.results.get("keyword")
    if keyword is None or not page.ids or keyword.relaxed is None:
        return None
    if keyword.relaxed == "semantic":
        return "semantic"
    shown = {keyword.levels[i] for i in page.ids if i in keyword.levels} - {"all_terms"}
    return max(shown, key=RELAXED_ORDER.index) if shown else None


def meta(req: SearchRequest, index: str, retrieved: Retrieved, page: Page, took_ms: float) -> dict[str, Any]:
    """The answer's `meta`: what answered, how, and whether anything failed."""
    profile = retrieved.profile
    return {
        "total": page.total,
        "took_ms": took_ms,
        "index_version": index,
        "mode": req.mode,
        "legs": render_legs(retrieved.statuses),
        "personalised": retrieved.personal is not None,
        **({"profile": {"source": "history" if req.history is not None else "user",
                        **(profile.describe() if profile else {})}} if retrieved.profile_asked else {}),
        "degraded": bool(retrieved.failed),
        "relaxed": relaxed(retrieved, page),
        "corrected": keyword.corrected if (keyword := retrieved.results.get("keyword")) is not None else None,
        **({"synonyms": [f.describe() for f in retrieved.synonyms.fired]} if req.explain else {}),
        "understood": retrieved.understood.describe() if retrieved.understood is not None else [],
    }
