"""Warm-up at start: the first shopper's query should cost what the ones after it cost.

Loading is split in two by the fork. `Runtime.load_shared` (in the master, before forking) loads
the model, jieba and the FAISS snapshot, which every worker then shares. `warm_up` (in each
process that serves, before it accepts a connection) runs one search per leg through the same
`answer` that /search calls: keyword (jieba, this process's Elasticsearch connection, the leg
pool), semantic (an encode and a FAISS search in this process), hybrid (fusion, paging and
hydration) and a query that wins a brand zone (the zone pool and the brand-keyword index).
`freeze_heap` then keeps the garbage collector off everything loaded at start.
bench/first_query.py measures the result.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from typing import Any

from indexer.index_format import IndexerError
from search_api.brands.answer import answer
from search_api.brands.brand_zone import active_keyword
from search_api.core.errors import ApiError
from search_api.retrieval.params import parse_search
from search_api.retrieval.runtime import Runtime

log = logging.getLogger(__name__)

LEG_QUERIES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("keyword", {"q": "抱枕 cushion", "mode": "keyword"}),
    ("semantic", {"q": "soft memory foam pillow", "mode": "semantic"}),
    ("hybrid", {"q": "cotton pillow for sleeping"}),
)
"""One search per leg; warm-up queries go through `answer` like live ones (and stay in the vector cache)."""

BUDGET_S = 10.0
"""Warm-up gives up after this long: a slow Elasticsearch must not keep a worker from serving."""


def warm_up(rt: Runtime, heartbeat: Callable[[], None] = lambda: None) -> dict[str, float]:
    """Run one search per leg in this process; returns milliseconds per leg that answered.

    Never raises: a server without a live index or with Elasticsearch down still starts (and
    says so on /readyz); the first failure from Elasticsearch ends the warm-up. `heartbeat` is
    called before each search (a gunicorn worker tells its master it is alive).
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    for leg, params in _queries(rt):
        if time.perf_counter() - started > BUDGET_S:
            log.warning("warm-up stopped after %.0f s", BUDGET_S)
            break
        heartbeat()
        begin = time.perf_counter()
        try:
            answer(rt, parse_search(params))
        except (IndexerError, ApiError) as exc:
            log.warning("warm-up %s search failed: %s", leg, exc)
            break
        timings[leg] = round((time.perf_counter() - begin) * 1000, 1)
    log.info("warmed up in %.0f ms: %s", (time.perf_counter() - started) * 1000,
             ", ".join(f"{leg} {ms} ms" for leg, ms in timings.items()) or "no search answered")
    return timings


def _queries(rt: Runtime) -> list[tuple[str, dict[str, Any]]]:
    """The leg queries, and a brand keyword of the live index (one query sure to get a zone)."""
    queries = list(LEG_QUERIES)
    try:
        keyword = active_keyword(rt.es, rt.settings.brand_keywords_alias)
    except IndexerError as exc:
        log.warning("warm-up without a brand zone: %s", exc)
        return queries
    if keyword:
        queries.append(("brand zone", {"q": keyword}))
    return queries


def freeze_heap() -> None:
    """Move everything loaded so far out of the cyclic garbage collector's reach.

    The model, modules and snapshot are half a million objects that live as long as the process;
    a full collection walks all of them (about 0.3 s with the GIL held on the shared 2-core
    machine) and, in a forked worker, writes to every page it shares with the master. Frozen,
    collections see only what was made after start; reference counting still frees frozen objects.
    """
    gc.collect()
    gc.freeze()
