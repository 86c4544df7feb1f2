"""Typo tolerance: misspelled query words corrected against the index's own vocabulary.

Elasticsearch's term suggester (server core) runs in the keyword leg's own request and proposes,
for each query word the `spell_words` field does not contain (or holds in only `RARE_DOCS`
products), the closest word more products contain. The edit distance allowed grows with the word
(none up to 3 letters, 1 up to 7, 2 above). A 4-letter word keeps its first letter (one edit there
reaches too many words: "bake" is "cake", "lake", "make"); a longer word may have it wrong too, as
ESCI's own shoppers typed "fragon book" (bench/typos.py: 0.898× the clean nDCG with the first
letter kept, 0.937× without). A correctly spelled query gets no correction, so its search is
exactly what it was without typo tolerance.

A correction must also make sense with the rest of the query: in a query of several words it is
kept only if some product holds it together with another of the query's words (`sensible`), so
"carrot cake" is not read as "carrot case" because the catalog sells phone cases.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from indexer.index_format import latin_words, normalize

SPELL_FIELD = "spell_words"

RARE_DOCS = 2
"""A word in at most this many products may be a misspelling the catalog itself made (ESCI's
descriptions have plenty): it is checked too, and corrected to a word more products hold. A
word in more products is taken as spelled right."""

_BANDS = (("typo_four", 4, 4, 1, 1), ("typo_short", 5, 7, 1, 0), ("typo_long", 8, 1000, 2, 0))
"""(suggester name, shortest and longest word, edits, letters kept): 4–7 letters get one edit,
longer ones two; only a 4-letter word must have its first letter right."""


def suggesters(q: str) -> dict[str, Any]:
    """The `suggest` section checking the query's Latin/pinyin words (empty when none is long enough)."""
    words = latin_words(q)
    out: dict[str, Any] = {}
    for name, shortest, longest, edits, kept in _BANDS:
        band = [w for w in words if shortest <= len(w) <= longest]
        if band:
            out[name] = {"text": " ".join(band), "term": {
                "field": SPELL_FIELD, "suggest_mode": "popular", "max_term_freq": RARE_DOCS, "max_edits": edits,
                "prefix_length": kept, "min_word_length": shortest, "size": 1, "sort": "score"}}
    return out


def corrections(suggest: Mapping[str, Any] | None) -> dict[str, str]:
    """Misspelled word → its correction, from a search response's `suggest` section."""
    out: dict[str, str] = {}
    for name, *_band in _BANDS:
        for entry in (suggest or {}).get(name, []):
            if entry.get("options"):
                out[entry["text"]] = entry["options"][0]["text"]
    return out


def corrected(q: str, fixes: Mapping[str, str]) -> str:
    """The normalised query with each misspelled word replaced by its correction."""
    if not fixes:
        return normalize(q)
    pattern = re.compile(r"(?<![0-9a-z])(" + "|".join(map(re.escape, fixes)) + r")(?![0-9a-z])")
    return pattern.sub(lambda m: fixes[m.group(1)], normalize(q))


def cooccurrence_aggs(q: str, fixes: Mapping[str, str]) -> dict[str, Any]:
    """Filter aggregations counting, per correction, products holding it and another query word."""
    words = latin_words(corrected(q, fixes))
    out: dict[str, Any] = {}
    for i, (_typo, fix) in enumerate(sorted(fixes.items())):
        others = [w for w in words if w != fix]
        if others:
            out[f"fix{i}"] = {"filter": {"bool": {"filter": [{"term": {SPELL_FIELD: fix}}],
                                                  "should": [{"terms": {SPELL_FIELD: others}}],
                                                  "minimum_should_match": 1}}}
        else:
            out[f"fix{i}"] = {"filter": {"term": {SPELL_FIELD: fix}}}
    return out


def sensible(fixes: Mapping[str, str], aggs: Mapping[str, Any]) -> dict[str, str]:
    """The corrections `cooccurrence_aggs` found some product for."""
    return {typo: fix for i, (typo, fix) in enumerate(sorted(fixes.items())) if aggs[f"fix{i}"]["doc_count"]}
