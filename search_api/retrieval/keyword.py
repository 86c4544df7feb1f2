"""The keyword leg: BM25F over the analysed fields, in Elasticsearch.

Query text goes through `indexer.analysis`, exactly like documents did, so `whitespace` fields
match jieba words and English stems. CJK unigrams add recall when segmentation differs between a
query and a title (a title's 抱枕 can sit inside a longer word); Latin words also meet the pinyin
of Chinese words (`baozhen` finds 抱枕).

Matching is strict first and relaxed only when that finds too little (`relax.py`): the hits are
those matching all the query's terms, else most of them, else any; the scores are always the OR
query's. When strict matching finds too little, misspelled words are also looked for in the index
vocabulary (`spelling.py`); a corrected query is searched alongside the query as typed, scored a
little below it.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from search_api.understand.boosts import matched_parts

TYPO_BOOST = 0.8
"""A corrected query scores below the query as typed: the shopper's own words come first."""

SYNONYM_BOOST = 0.8
"""A synonym variant ("sofa cover" for "couch cover") scores below the query as typed, like a
correction: where the words are about as common, the shopper's own wording ranks first (a synonym
far rarer than the typed word can still outrank it: BM25 weighs each word by its own rarity)."""

DEMOTE = 0.85
"""Score factor of a product whose title names what the query excludes ("knife sets without block"
→ a set "with block"). ESCI dev's 19 exclusion queries (in-sample): hybrid nDCG@10 0.671 without
demotion, 0.716 at 0.85–0.9, 0.698 at 0.5 (demoted relevant products fell out of the candidates)."""


def _texts(q: str, fixed: str | None, synonyms: Sequence[str] = (),
           typed: list[dict[str, Any]] | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    """The texts searched (as typed, corrected, synonym variants) and the OR query's clauses for them.

    One text: its clauses as they are. Several: the best-scoring text counts (`dis_max`), so a
    product matching both "pillow" and its synonym 枕头 is not scored twice for one meaning (which
    let synonym-rich titles outrank everything, personal boosts included).
    """
    texts = [q, *([fixed] if fixed is not None else []), *synonyms]
    groups = [typed if typed is not None else text_clauses(q)]
    groups += [text_clauses(fixed, TYPO_BOOST)] if fixed is not None else []
    groups += [text_clauses(v, SYNONYM_BOOST) for v in synonyms]
    groups = [g for g in groups if g]
    if len(groups) <= 1:
        return texts, groups[0] if groups else []
    return texts, [{"dis_max": {"queries": [{"bool": {"should": g}} for g in groups]}}]


def matching_clause(q: str, fixed: str | None, level: Level, synonyms: Sequence[str] = ()) -> dict[str, Any] | None:
    """The keyword matches of an answer at its level, scored by the OR query (None: no keyword match).

    The eligible set's keyword part (`eligible.py`): the same products the keyword leg's hits
    are drawn from, before filters and without personal boosts.
    """
    texts, should = _texts(q, fixed, synonyms)
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
                 max_boost: float = 1.0, fixed: str | None = None, level: Level = Level.ALL,
                 synonyms: Sequence[str] = (), boosts: Sequence[dict[str, Any]] = (),
                 demote: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The search body of the keyword leg, or None when the query has no searchable tokens.

    `functions` (personal affinity boosts, see `personalize.boosted`) multiply the score of
    matching documents by at most `max_boost`. `fixed` is the spelling-corrected query, searched
    alongside the query as typed; `level` how strictly hits must match (`relax.py`). `synonyms`
    are the query's synonym variants (`Expansion.variants`), searched alongside it too; none
    leaves the body exactly as it is without synonyms. `boosts` (query understanding's clauses,
    `understand.boosts`) add to the score of products the words match, never match one by themselves;
    none leaves the body as it is. `demote` (an exclusion's products, `understand.boosts.demotion`)
    scales the score of the products it matches by `DEMOTE` (a `boosting` query: ranks them lower,
    never drops one). The filters and the level are a `post_filter`; the all-terms
    count (`aggs.all`) is taken before the filters.
    """
    typed = text_clauses(req.q)  # analysed once: the query's own clauses, and whether it has any
    if not typed:
        return None
    texts, should = _texts(req.q, fixed, synonyms, typed)
    should = should + level_markers(texts, level)
    matched: dict[str, Any] = {"bool": {"should": should, "minimum_should_match": 1, "must_not": [gone_clause()]}}
    if boosts:
        matched = {"bool": {"must": [matched], "should": list(boosts)}}
    if demote is not None:
        matched = {"boosting": {"positive": matched, "negative": demote, "negative_boost": DEMOTE}}
    body: dict[str, Any] = {
        "size": size,
        # ids from doc values: skips decompressing stored fields, ~3x faster for 100 hits
        "stored_fields": "_none_",
        "docvalue_fields": ["id"],
        "track_total_hits": True,
        "query": boosted(matched, functions or [], max_boost),
        "post_filter": {"bool": {"filter": [level_filter(texts, level), *filter_clauses(req)]}},
    }
    if level is Level.ALL:
        body["aggs"] = {"all": level_counts(texts)["all"]}
    return body


def probe_body(body: dict[str, Any], texts: list[str], spell_check: str | None) -> dict[str, Any]:
    """No hits: the products matching all, most and any of `texts` (before filters), and a spelling check."""
    probe = {"size": 0, "track_total_hits": False, "query": body["query"], "aggs": level_counts(texts)}
    checks = suggesters(spell_check) if spell_check is not None else {}
    return probe | ({"suggest": checks} if checks else {})


def _all_terms(response: Any) -> int:
    """Default-visible products matching all the query's terms, whatever the filters (a level-ALL body)."""
    return int(response["aggregations"]["all"]["doc_count"])


def _hits(response: Any, level: Level = Level.ALL) -> LegResult:
    hits = response["hits"]["hits"]
    ids = [h["fields"]["id"][0] for h in hits]
    levels = {} if level is Level.ALL else {i: hit_level(h.get("matched_queries", ())).value
                                            for i, h in zip(ids, hits, strict=True)}
    understood = {i: parts for i, h in zip(ids, hits, strict=True)
                  if (parts := matched_parts(h.get("matched_queries")))}
    return LegResult(ids, [float(h["_score"] or 0.0) for h in hits], int(response["hits"]["total"]["value"]),
                     relaxed=None if level is Level.ALL else level.value, levels=levels, understood=understood)


def search(es: Elasticsearch, index: str, req: SearchRequest, *, size: int,
           functions: list[dict[str, Any]] | None = None, max_boost: float = 1.0,
           relax_below: int = 1, typos: bool = True, synonyms: Sequence[str] = (),
           boosts: Sequence[dict[str, Any]] = (), demote: dict[str, Any] | None = None) -> LegResult:
    """`hits`, with the query's synonym variants only when the query as typed finds too little.

    Synonyms widen recall where the shopper's words miss the catalog's ("couch" for sofas); a query
    that already matches `relax_below` products keeps its own ranking, so a synonym far rarer than
    the typed word (a brand keyword's alias 枕头 for "pillow") cannot take over its top results or
    outweigh the shopper's personal boosts. The variants searched are noted on the result (the
    eligible set reuses them).

    Raises:
        EngineError: Elasticsearch failed.

    """
    options = {"size": size, "functions": functions, "max_boost": max_boost, "relax_below": relax_below,
               "typos": typos, "boosts": boosts, "demote": demote}
    if synonyms:  # the query as typed first: a query that matches well enough is not expanded
        body = keyword_body(req, size=size, functions=functions, max_boost=max_boost, boosts=boosts, demote=demote)
        if body is not None:
            with engine_errors("keyword search"):
                response = es.search(index=index, **body)
            if _all_terms(response) >= relax_below:
                return _hits(response)
    found = hits(es, index, req, synonyms=synonyms, **options)  # type: ignore[arg-type]
    return replace(found, variants=tuple(synonyms)) if synonyms else found


def hits(es: Elasticsearch, index: str, req: SearchRequest, *, size: int,
         functions: list[dict[str, Any]] | None = None, max_boost: float = 1.0,
         relax_below: int = 1, typos: bool = True, synonyms: Sequence[str] = (),
         boosts: Sequence[dict[str, Any]] = (), demote: dict[str, Any] | None = None) -> LegResult:
    """Run the keyword leg (with personal boosts when `functions` are given, and `synonyms` variants).

    One request when at least `relax_below` products match all the query's terms (the common
    case: nothing to relax, and a query that matches that well is not misspelled). Otherwise a
    probe counts the looser levels and checks the spelling, corrections are checked against the
    rest of the query and searched, and the hits are fetched at the level chosen.

    Raises:
        EngineError: Elasticsearch failed.

    """
    body = keyword_body(req, size=size, functions=functions, max_boost=max_boost, synonyms=synonyms, boosts=boosts,
                        demote=demote)
    if body is None:
        return LegResult([], [], 0)
    with engine_errors("keyword search"):
        response = es.search(index=index, **body)
        strict = _hits(response)
        if _all_terms(response) >= relax_below:
            return strict
        counts = es.search(index=index, **probe_body(body, [req.q, *synonyms], req.q if typos else None))
        fixed = _respelled(es, index, req.q, counts.get("suggest"))
        if fixed is not None:
            body = keyword_body(req, size=size, functions=functions, max_boost=max_boost, fixed=fixed,
                                synonyms=synonyms, boosts=boosts, demote=demote)
            response = es.search(index=index, **body)
            strict = replace(_hits(response), corrected=fixed)
            if _all_terms(response) >= relax_below:
                return strict
            counts = es.search(index=index, **probe_body(body, [req.q, fixed, *synonyms], None))
        aggs = counts["aggregations"]
        level = choose_level([aggs[name]["doc_count"] for name in ("all", "most", "any")], relax_below)
        if level is Level.ALL:
            return strict
        if level is Level.NONE:
            return LegResult([], [], 0, relaxed=level.value, corrected=fixed)
        body = keyword_body(req, size=size, functions=functions, max_boost=max_boost, fixed=fixed, level=level,
                            synonyms=synonyms, boosts=boosts, demote=demote)
        return replace(_hits(es.search(index=index, **body), level), corrected=fixed)


def _respelled(es: Elasticsearch, index: str, q: str, suggest: Any) -> str | None:
    """The query with its sensible corrections (`spelling`), or None when it needs none."""
    fixes = corrections(suggest)
    if not fixes:
        return None
    checked = es.search(index=index, size=0, aggs=cooccurrence_aggs(q, fixes))
    kept = sensible(fixes, checked["aggregations"])
    return corrected(q, kept) if kept else None
