"""`GET /suggest` as a short pipeline: expand the prefix → ask each source → merge → personalise → describe.

`expand` turns the typed prefix into the texts to complete: the prefix and its synonym variants,
as the keyword leg searches them (`with_synonyms`). `sources` lists the `SuggestionSource`s: the
catalog, and popular past queries from the query log (`query_source.py`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from indexer.index_format import IndexerError
from search_api.core import metrics
from search_api.retrieval.runtime import Runtime
from search_api.suggest.params import SuggestRequest
from search_api.suggest.query_source import QueryLogSource
from search_api.suggest.rank import merged, personalised
from search_api.suggest.sources import Candidate, CatalogSource, SuggestionSource

log = logging.getLogger(__name__)

Expander = Callable[[str], Sequence[str]]
"""Prefix → the prefixes to complete, the prefix itself first (a synonym set adds its equivalents)."""
MAX_EXPANSIONS = 4
"""Each expansion is one more completion lookup per keystroke."""
PERSONAL_POOL = 4
"""A personalised answer picks from `size ×` this many candidates: deep enough to find the
shopper's brands among the prefix's popular completions, shallow enough to stay relevant."""


def sources_of(rt: Runtime) -> tuple[SuggestionSource, ...]:
    """The sources of this process's suggestions: the catalog, and past queries when they are logged."""
    catalog = CatalogSource(rt.es, rt.settings.suggestions_alias)
    return (catalog, QueryLogSource(rt.popular_queries)) if rt.settings.query_log else (catalog,)


def with_synonyms(rt: Runtime) -> Expander:
    """The prefix, then its synonym variants: the same expansion the keyword leg searches."""
    return lambda prefix: (prefix, *rt.synonyms.expand(prefix).variants)


def suggest(rt: Runtime, req: SuggestRequest, *, sources: Sequence[SuggestionSource] | None = None,
            expand: Expander | None = None) -> dict[str, Any]:
    """The answer to one suggestion request.

    Raises:
        EngineError: Elasticsearch failed while completing (a failed profile read only loses the
            personal order).

    """
    started = time.perf_counter()
    affinities = _affinities(rt, req.user_id)
    pool = req.size * (PERSONAL_POOL if affinities else 1)
    texts = (expand or with_synonyms(rt))(req.q)[:MAX_EXPANSIONS]
    candidates = gather(sources if sources is not None else sources_of(rt), texts,
                        size=pool)
    ranked = merged(candidates)
    if affinities:
        ranked = personalised(ranked, brands=affinities[0], categories=affinities[1], size=req.size)
    took_ms = round((time.perf_counter() - started) * 1000, 2)
    return {"suggestions": [c.describe() for c in ranked[:req.size]],
            "meta": {"took_ms": took_ms, "personal": bool(affinities)}}


def gather(sources: Sequence[SuggestionSource], prefixes: Sequence[str], *, size: int) -> list[Candidate]:
    """Every source's candidates for every prefix."""
    with metrics.timed("suggest"):
        return [c for prefix in prefixes for source in sources for c in source.suggest(prefix, size=size)]


def _affinities(rt: Runtime, user_id: str | None) -> tuple[frozenset[str], frozenset[str]] | None:
    """The shopper's affinity brands and leaf categories; None for no user, no history or a failed read."""
    if not user_id:
        return None
    try:
        profile = rt.profiles.for_user(user_id)
    except IndexerError as exc:
        log.warning("suggest: profile of a shopper unavailable, not personalised: %s", exc)
        return None
    if profile.empty:
        return None
    return frozenset(b for b, _ in profile.brands), frozenset(c for c, _ in profile.categories)
