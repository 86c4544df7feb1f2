"""The eligible set of an answer: every product it could show, as one Elasticsearch query.

    eligible = (keyword matches at the answer's level ∪ the semantic leg's candidates) − deleted

Keyword matches are those of the OR query (the text as typed, and its spelling correction) at
the strictness level the keyword leg chose (`relax.py`); semantic candidates are the leg's top
`semantic_candidates` neighbours at or above `semantic_floor`. The request's filters (status
included) apply on top, as a `post_filter` (`paging.py`), so facets can count around them. A leg
that failed, timed out or was skipped adds nothing. Pure: values in, a query dict out.
"""

from __future__ import annotations

from typing import Any

from search_api.retrieval.filters import gone_clause
from search_api.retrieval.keyword import matching_clause
from search_api.retrieval.legs import LegResult, Retrieved
from search_api.retrieval.params import SearchRequest
from search_api.retrieval.relax import Level


def keyword_level(leg: LegResult) -> Level:
    """The level the keyword leg answered at (all terms unless it relaxed)."""
    return Level(leg.relaxed) if leg.relaxed is not None else Level.ALL


def semantic_clauses(leg: LegResult) -> list[dict[str, Any]]:
    """One constant-score clause per semantic candidate, scored by its similarity.

    The score only breaks ties (a sort by price, the deep pages' keyword order) among products the
    keyword query does not score; a candidate the keyword query also matches adds it to its BM25.
    """
    return [{"constant_score": {"filter": {"ids": {"values": [doc_id]}}, "boost": max(float(score), 0.0)}}
            for doc_id, score in zip(leg.ids, leg.scores, strict=True)]


def eligible_query(req: SearchRequest, retrieved: Retrieved) -> dict[str, Any] | None:
    """The query matching the answer's eligible set before filters (None: it is empty)."""
    should: list[dict[str, Any]] = []
    keyword = retrieved.results.get("keyword")
    if keyword is not None:
        clause = matching_clause(keyword.searched or req.q, keyword.corrected, keyword_level(keyword), keyword.variants)
        if clause is not None:
            should.append(clause)
    semantic = retrieved.results.get("semantic")
    if semantic is not None:
        should += semantic_clauses(semantic)
    if not should:
        return None
    return {"bool": {"should": should, "minimum_should_match": 1, "must_not": [gone_clause()]}}
