"""The keyword leg: BM25F over the analysed fields, in Elasticsearch.

Query text goes through `indexer.analysis`, exactly like documents did, so `whitespace` fields
match jieba words and English stems. CJK unigrams add recall when segmentation differs between a
query and a title (a title's 抱枕 can sit inside a longer word); Latin words also meet the pinyin
of Chinese words (`baozhen` finds 抱枕).

Matching is strict first and relaxed only when that finds too little (`relax.py`): the hits are
those matching all the query's terms, else most of them; the scores are always the OR query's.
Misspelled words are corrected against the index vocabulary in the same request (`spelling.py`);
a corrected query is searched alongside the query as typed, scored a little below it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from elasticsearch import Elasticsearch

from indexer.index_format import engine_errors
from search_api.personal.personalize import boosted
from search_api.retrieval.clauses import text_clauses
from search_api.retrieval.filters import filter_clauses, gone_clause, status_clause
from search_api.retrieval.legs import LegResult
from search_api.retrieval.params import SearchRequest
from search_api.retrieval.relax import Level, choose_level, hit_level, level_filter, level_markers
from search_api.retrieval.spelling import cooccurrence_aggs, corrected, corrections, sensible, suggesters

TYPO_BOOST = 0.8
"""A corrected query scores below the query as typed: the shopper's own words come first."""


def _texts(q: str, fixed: str | None) -> tuple[list[str], list[dict[str, Any]]]:
    """The texts searched (as typed, corrected) and the OR query's clauses for them."""
    texts = [q] if fixed is None else [q, fixed]
    return texts, text_clauses(q) + (text_clauses(fixed, TYPO_BOOST) if fixed is not None else [])


def matching_clause(q: str, fixed: str | None, level: Level) -> dict[str, Any] | None:
    """The keyword matches of an answer at its level, scored by the OR query (None: no keyword match).

    The eligible set's keyword part (`eligible.py`): the same products the keyword leg's hits
    are drawn from, before filters and without personal boosts.
    """
    texts, should = _texts(q, fixed)
    if not should or level is Level.NONE:
        return None
    return {"bool": {"should": should, "minimum_should_match": 1, "filter": [level_filter(texts, level)]}}


def level_counts(texts: list[str]) -> dict[str, Any]:
    """Aggregations counting the default-visible matches at each level, whatever the filters.

    The level is chosen before the shopper's filters apply, so a filter narrows an answer's
    matches (and its facet counts stay what filtering by them gives) instead of relaxing them.
    """
    shown = status_clause(())
    return {"all": {"filter": {"bool": {"filter": [level_filter(texts, Level.ALL), shown]}}},
            "most": {"filter": {"bool": {"filter": [level_filter(texts, Level.MOST), shown]}}},
            "any": {"filter": shown}}


def keyword_body(req: SearchRequest, *, size: int, functions: list[dict[str, Any]] | None = None,
                 max_boost: float = 1.0, fixed: str | None = None, level: Level = Level.ALL) -> dict[str, Any] | None:
    """The search body of the keyword leg, or None when the query has no searchable tokens.

    `functions` (personal affinity boosts, see `personalize.boosted`) multiply the score of
    matching documents by at most `max_boost`. `fixed` is the spelling-corrected query, searched
    alongside the query as typed; `level` how strictly hits must match (`relax.py`). The filters
    and the level are a `post_filter`: the level counts are taken before the filters.
    """
    texts, should = _texts(req.q, fixed)
    if not should:
        return None
    should += level_markers(texts, level)
    body: dict[str, Any] = {
        "size": size,
        # ids from doc values: skips decompressing stored fields, ~3x faster for 100 hits
        "stored_fields": "_none_",
        "docvalue_fields": ["id"],
        "track_total_hits": True,
        "query": boosted({"bool": {"should": should, "minimum_should_match": 1, "must_not": [gone_clause()]}},
                         functions or [], max_boost),
        "post_filter": {"bool": {"filter": [level_filter(texts, level), *filter_clauses(req)]}},
    }
    if level is Level.ALL:
        body["aggs"] = level_counts(texts)
    return body


def _hits(response: Any, level: Level = Level.ALL) -> LegResult:
    hits = response["hits"]["hits"]
    ids = [h["fields"]["id"][0] for h in hits]
    levels = {} if level is Level.ALL else {i: hit_level(h.get("matched_queries", ())).value
                                            for i, h in zip(ids, hits, strict=True)}
    return LegResult(ids, [float(h["_score"] or 0.0) for h in hits], int(response["hits"]["total"]["value"]),
                     relaxed=None if level is Level.ALL else level.value, levels=levels)


def search(es: Elasticsearch, index: str, req: SearchRequest, *, size: int,
           functions: list[dict[str, Any]] | None = None, max_boost: float = 1.0,
           relax_below: int = 1, typos: bool = True) -> LegResult:
    """Run the keyword leg (with personal boosts when `functions` are given).

    One request in the common case; two more when a word was misspelled (checking the corrections,
    then searching the corrected query alongside the query as typed) and another when all-terms
    matching found fewer than `relax_below` products.

    Raises:
        EngineError: Elasticsearch failed.

    """
    body = keyword_body(req, size=size, functions=functions, max_boost=max_boost)
    if body is None:
        return LegResult([], [], 0)
    checks = suggesters(req.q) if typos else {}
    if checks:
        body["suggest"] = checks
    with engine_errors("keyword search"):
        response = es.search(index=index, **body)
        fixed = _respelled(es, index, req.q, response.get("suggest"))
        if fixed is not None:
            body = keyword_body(req, size=size, functions=functions, max_boost=max_boost, fixed=fixed)
            response = es.search(index=index, **body)
        strict = _hits(response)
        aggs = response["aggregations"]
        level = choose_level([aggs[name]["doc_count"] for name in ("all", "most", "any")], relax_below)
        if level is Level.ALL:
            return replace(strict, corrected=fixed)
        if level is Level.NONE:
            return LegResult([], [], 0, relaxed=level.value, corrected=fixed)
        body = keyword_body(req, size=size, functions=functions, max_boost=max_boost, fixed=fixed, level=level)
        response = es.search(index=index, **body)
    return replace(_hits(response, level), corrected=fixed)


def _respelled(es: Elasticsearch, index: str, q: str, suggest: Any) -> str | None:
    """The query with its sensible corrections (`spelling`), or None when it needs none."""
    fixes = corrections(suggest)
    if not fixes:
        return None
    checked = es.search(index=index, size=0, aggs=cooccurrence_aggs(q, fixes))
    kept = sensible(fixes, checked["aggregations"])
    return corrected(q, kept) if kept else None
