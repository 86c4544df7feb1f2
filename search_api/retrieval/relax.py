"""How strictly keyword hits must match, relaxed step by step only when strict finds too little.

A query's OR form scores the candidates (BM25F rewards matching more terms), but a product that
matches one word of "carrot cake" is not a carrot cake. So the hits shown are those matching *all*
the query's terms; when fewer than `relax_below` products do, those matching *most* of them (75 %
of the words, or the CJK unigram net, which already asks for 75 % of the characters and the head
noun); then those matching any term; when none do, the keyword leg answers nothing and the
answer is the semantic leg's alone. An answer whose page shows a relaxed match says so
(`meta.relaxed`). Levels are Elasticsearch filters (`post_filter`, `filter`
aggregations, zero-score named clauses marking each hit's level), so the common case costs one
request and the scores never change with the level.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

from indexer.index_format import analyzed, analyzed_cjk, latin_words
from search_api.retrieval.clauses import FIELD_BOOSTS, cjk_clause

MOST_TERMS = "2<75%"
"""The words the `most` level requires: all of a query of one or two, else 75 % rounded down (4 → 3)."""


class Level(Enum):
    """The matching level that answered; the value is its word in `meta.relaxed`."""

    ALL = "all_terms"
    MOST = "most_terms"
    ANY = "any_term"
    NONE = "semantic"


def _words_clause(q: str, level: Level) -> list[dict[str, Any]]:
    tokens, words = analyzed(q), latin_words(q)
    out: list[dict[str, Any]] = []
    if tokens:
        strictness = {"operator": "and"} if level is Level.ALL else {"minimum_should_match": MOST_TERMS}
        out.append({"combined_fields": {"query": tokens, "fields": list(FIELD_BOOSTS), **strictness}})
    if words:  # pinyin: every word a Chinese word's pinyin, or all of them run together
        out.append({"match": {"pinyin_tokens": {"query": " ".join(words), "operator": "and"}}})
        if len(words) > 1:
            out.append({"term": {"pinyin_tokens": "".join(words)}})
    cjk = analyzed_cjk(q)
    if cjk and level is Level.MOST:
        out.append(cjk_clause(q, cjk))
    return out


def level_filter(texts: Sequence[str], level: Level) -> dict[str, Any]:
    """A filter matching the products that match any of `texts` (as typed, corrected) at `level`.

    Every product the OR query found matches at `ANY`.
    """
    if level is Level.ANY:
        return {"match_all": {}}
    should = [clause for text in texts for clause in _words_clause(text, level)]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def choose_level(counts: Sequence[int], relax_below: int) -> Level:
    """The strictest level that finds `relax_below` products, else the one that finds the most.

    `counts` are the products matching at ALL, MOST and ANY (each level's set holds the stricter's).
    """
    levels = (Level.ALL, Level.MOST, Level.ANY)
    for level, count in zip(levels, counts, strict=True):
        if count >= relax_below:
            return level
    best = max(range(len(levels)), key=lambda i: (counts[i], -i))
    return levels[best] if counts[best] else Level.NONE


_STRICTER = {Level.MOST: (Level.ALL,), Level.ANY: (Level.ALL, Level.MOST)}
"""The levels a relaxed hit may still match, strictest first."""


def level_markers(texts: Sequence[str], level: Level) -> list[dict[str, Any]]:
    """Zero-score clauses naming, on each hit, the stricter levels it also matches (relaxed levels only)."""
    return [{"bool": {"filter": [level_filter(texts, stricter)], "_name": stricter.value}}
            for stricter in _STRICTER.get(level, ())]


def hit_level(matched: Sequence[str]) -> Level:
    """The strictest level one relaxed hit matches, from its `matched_queries`."""
    for level in (Level.ALL, Level.MOST):
        if level.value in matched:
            return level
    return Level.ANY
