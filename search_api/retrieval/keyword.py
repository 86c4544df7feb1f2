"""The keyword leg: BM25F over the analysed fields, in Elasticsearch.

Query text goes through `indexer.analysis`, exactly like documents did, so `whitespace` fields
match jieba words and English stems. CJK unigrams add recall when segmentation differs between a
query and a title (a title's 抱枕 can sit inside a longer word).
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from indexer.index_format import analyzed, analyzed_cjk, cjk_chars, engine_errors
from search_api.personal.personalize import boosted
from search_api.retrieval.filters import filter_clauses, hidden_clause
from search_api.retrieval.legs import LegResult
from search_api.retrieval.params import SearchRequest

FIELD_BOOSTS = {
    "title_tokens": 6.0,
    "brand_tokens": 4.0,
    "category_tokens": 3.0,
    "color_tokens": 2.0,
    "attribute_tokens": 2.0,
    "bullet_tokens": 1.0,
    "description_tokens": 1.0,
}
"""BM25F field weights (combined_fields needs each ≥ 1): titles say what a product is; bullets
and descriptions mostly add vocabulary."""

CJK_MIN_MATCH = "75%"
"""Share of a query's CJK characters a title must contain to count as a unigram match (besides the
heads, see `cjk_heads`)."""

CJK_BOOST = 1.0

NOMINAL_SUFFIXES = frozenset("子头儿")


def cjk_heads(text: str) -> list[str]:
    """The last CJK character of each space-separated part of a query: its head.

    Chinese compounds put the head last (抱枕 "hug-pillow", 护肤 "care-skin", 护颈枕
    "care-neck-pillow"), so a unigram match that keeps the head keeps the kind of thing asked for:
    抱枕 still finds 汽车头枕 through 枕, but 护肤 no longer finds neck pillows through 护. A
    nominal suffix (子 头 儿: 枕头, 袜子) is not the head: the character before it is.
    """
    heads = []
    for part in text.split():
        chars = cjk_chars(part)
        if chars:
            heads.append(chars[-2] if len(chars) > 1 and chars[-1] in NOMINAL_SUFFIXES else chars[-1])
    return heads


def _cjk_clause(q: str, cjk: str) -> dict[str, Any]:
    return {"bool": {"must": [{"match": {"title_cjk": {"query": cjk, "minimum_should_match": CJK_MIN_MATCH}}}],
                     "filter": [{"term": {"title_cjk": head}} for head in cjk_heads(q)],
                     "boost": CJK_BOOST}}


def keyword_body(req: SearchRequest, *, size: int, functions: list[dict[str, Any]] | None = None,
                 max_boost: float = 1.0) -> dict[str, Any] | None:
    """The search body of the keyword leg, or None when the query has no searchable tokens.

    `functions` (personal affinity boosts, see `personalize.boosted`) multiply the score of
    matching documents by at most `max_boost`.
    """
    tokens, cjk = analyzed(req.q), analyzed_cjk(req.q)
    should: list[dict[str, Any]] = []
    if tokens:
        should.append({"combined_fields": {
            "query": tokens, "fields": [f"{f}^{b:g}" for f, b in FIELD_BOOSTS.items()], "operator": "or"}})
    if cjk:
        should.append(_cjk_clause(req.q, cjk))
    if not should:
        return None
    return {
        "size": size,
        # ids from doc values: skips decompressing stored fields, ~3x faster for 100 hits
        "stored_fields": "_none_",
        "docvalue_fields": ["id"],
        "track_total_hits": True,
        "query": boosted({"bool": {"should": should, "minimum_should_match": 1,
                                   "filter": filter_clauses(req), "must_not": [hidden_clause()]}},
                         functions or [], max_boost),
    }


def search(es: Elasticsearch, index: str, req: SearchRequest, *, size: int,
           functions: list[dict[str, Any]] | None = None, max_boost: float = 1.0) -> LegResult:
    """Run the keyword leg (with personal boosts when `functions` are given).

    Raises:
        EngineError: Elasticsearch failed.

    """
    body = keyword_body(req, size=size, functions=functions, max_boost=max_boost)
    if body is None:
        return LegResult([], [], 0)
    with engine_errors("keyword search"):
        response = es.search(index=index, **body)
    hits = response["hits"]["hits"]
    return LegResult([h["fields"]["id"][0] for h in hits], [float(h["_score"] or 0.0) for h in hits],
                     int(response["hits"]["total"]["value"]))
