"""Recognised parts → soft boosts: `should` clauses that add to a keyword match's score, never filter.

Each part adds a constant (`WEIGHTS`, a fraction of a typical BM25F score) to products whose
fields carry it: the brand or colour keyword field (the catalog's own values) or the analysed
fields holding any name of the value in either language (one constant however many match), so
"black dress" lifts dresses whose colour attribute says 黑色. A price range adds its constant
inside the range; "cheap" decays it with price (half at the catalog's median). Each clause is
named `understood:<i>` (its index in `Understanding.parts`) so the keyword leg can say which
parts a hit matched (`explain`).
"""

from __future__ import annotations

from typing import Any

from indexer.index_format import analyzed
from search_api.understand.price import PriceWish
from search_api.understand.recognise import Part, Understanding

WEIGHTS = {"brand": 3.0, "color": 2.0, "size": 1.0, "gender": 1.0, "age": 1.0, "material": 1.5, "price": 5.0}
"""Score added per recognised part (keyword leg scores on the sample and ESCI run ~5–40). A price
is said outright ("under 50") and no word of the query matches it, so it weighs most."""

FIELDS = {
    "brand": ("brand_tokens",),
    "color": ("color_tokens", "attribute_tokens"),
    "size": ("attribute_tokens", "title_tokens"),
    "gender": ("category_tokens", "title_tokens"),
    "age": ("category_tokens", "title_tokens"),
    "material": ("attribute_tokens", "title_tokens"),
}
"""Analysed fields a part is looked for in (besides the brand/colour keyword fields)."""

KEYWORD_FIELDS = {"brand": "brand", "color": "color"}

PREFIX = "understood:"


def _names_in(field: str, names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Any of `names` in an analysed field: one-word names in one match, phrases each as a phrase."""
    single, phrases = [], []
    for name in names:
        words = analyzed(name).split()
        (single if len(words) == 1 else phrases).append(" ".join(words))
    out: list[dict[str, Any]] = [{"match": {field: " ".join(single)}}] if single else []
    return out + [{"match_phrase": {field: p}} for p in phrases if p]


def part_filter(part: Part) -> dict[str, Any]:
    """Products carrying `part`."""
    should: list[dict[str, Any]] = []
    if part.targets and part.kind in KEYWORD_FIELDS:
        should.append({"terms": {KEYWORD_FIELDS[part.kind]: list(part.targets)}})
    for field in FIELDS.get(part.kind, ()):
        should += _names_in(field, part.names or (part.text,))
    return {"bool": {"should": should, "minimum_should_match": 1}}


def price_clause(wish: PriceWish, median: float | None, weight: float, name: str) -> dict[str, Any] | None:
    """A price range's constant inside it, or "cheap" as an exponential decay from 0 (None: no reference)."""
    if wish.cheap:
        if not median:
            return None
        return {"function_score": {"query": {"exists": {"field": "price"}},
                                   "functions": [{"exp": {"price": {"origin": 0, "scale": median, "decay": 0.5}}}],
                                   "boost_mode": "replace", "boost": weight, "_name": name}}
    bounds = {k: v for k, v in (("gte", wish.low), ("lte", wish.high)) if v is not None}
    return {"constant_score": {"filter": {"range": {"price": bounds}}, "boost": weight, "_name": name}}


def boost_clauses(understanding: Understanding) -> list[dict[str, Any]]:
    """The `should` clauses of an understanding (empty: nothing recognised)."""
    out = []
    for i, part in enumerate(understanding.parts):
        name = f"{PREFIX}{i}"
        if part.kind == "exclude":  # taken out of the words searched; never a boost (nor a filter)
            continue
        if part.kind == "price":
            if understanding.price is not None:
                clause = price_clause(understanding.price, understanding.reference_price, WEIGHTS["price"], name)
                out += [clause] if clause is not None else []
            continue
        out.append({"constant_score": {"filter": part_filter(part), "boost": WEIGHTS.get(part.kind, 1.0),
                                       "_name": name}})
    return out


def matched_parts(matched_queries: Any) -> tuple[int, ...]:
    """Indices of the parts a hit matched, from its `matched_queries`."""
    names = matched_queries.keys() if isinstance(matched_queries, dict) else matched_queries or ()
    return tuple(sorted(int(n[len(PREFIX):]) for n in names if n.startswith(PREFIX)))


NEGATED = ("without {}", "w/o {}", "no {}", "{} free", "不含{}", "不带{}", "无{}")
"""How a title says it lacks the excluded thing ("knife set without block", "无盖"): not demoted."""


def demotion(understanding: Understanding) -> dict[str, Any] | None:
    """Products whose title names an excluded thing (without saying it lacks it); None: nothing excluded.

    "knife sets without block" searches "knife sets"; a set whose title says "with block" is a
    match the shopper ruled out, so the keyword leg ranks it lower (`keyword.DEMOTE`).
    """
    named: dict[str, str] = {}  # excluded value → its analysed words (none: nothing to look for)
    for part in understanding.parts:
        if part.kind == "exclude" and (words := analyzed(part.value)).strip():
            named[part.value] = words
    if not named:
        return None
    lacking = [words for what in named for form in NEGATED if (words := analyzed(form.format(what))).strip()]
    return {"bool": {"should": [{"match": {"title_tokens": {"query": words, "operator": "and"}}}
                                for words in named.values()],
                     "minimum_should_match": 1,
                     "must_not": [{"match_phrase": {"title_tokens": words}} for words in lacking]}}
