"""The OR query's clauses for one query text: BM25F over the analysed fields, CJK unigrams, pinyin.

Shared by the keyword leg (scoring) and the relaxation levels (`relax.py`, filtering), so both
read the same fields the same way.
"""

from __future__ import annotations

from typing import Any

from indexer.index_format import analyzed, analyzed_cjk, cjk_chars, latin_words

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

PINYIN_BOOST = 3.0
"""Pinyin typed in the search box names the thing as a Chinese title word does (between the
category's and the brand's weight)."""


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


def cjk_clause(q: str, cjk: str) -> dict[str, Any]:
    """Titles holding most of the query's CJK characters, its head nouns among them."""
    return {"bool": {"must": [{"match": {"title_cjk": {"query": cjk, "minimum_should_match": CJK_MIN_MATCH}}}],
                     "filter": [{"term": {"title_cjk": head}} for head in cjk_heads(q)],
                     "boost": CJK_BOOST}}


def pinyin_query(words: list[str]) -> str:
    """Latin words as pinyin candidates: each word, and all of them run together ('bao zhen' → baozhen)."""
    return " ".join(words + (["".join(words)] if len(words) > 1 else []))


def text_clauses(q: str, boost: float = 1.0) -> list[dict[str, Any]]:
    """The OR query's clauses for one text: BM25F words, CJK unigrams, pinyin."""
    tokens, cjk, words = analyzed(q), analyzed_cjk(q), latin_words(q)
    should: list[dict[str, Any]] = []
    if tokens:
        should.append({"combined_fields": {
            "query": tokens, "fields": [f"{f}^{b:g}" for f, b in FIELD_BOOSTS.items()], "operator": "or",
            **({"boost": boost} if boost != 1.0 else {})}})
    if cjk:
        clause = cjk_clause(q, cjk)
        clause["bool"]["boost"] = CJK_BOOST * boost
        should.append(clause)
    if words:
        should.append({"match": {"pinyin_tokens": {"query": pinyin_query(words), "boost": PINYIN_BOOST * boost}}})
    return should
