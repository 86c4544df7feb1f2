"""The catalog's own vocabulary for one index version: its brands (and their aliases), colours, prices.

One aggregation request on the concrete products index (brand and colour values, the median
price) and one search of the brand-keyword index (aliases of keywords that are a brand's own
name: 棉语 ⇔ Mianyu), read when a new version goes live, like `synonyms/brand_aliases.py`.
"""

from __future__ import annotations

from collections import defaultdict

from elasticsearch import Elasticsearch, NotFoundError

from indexer.index_format import engine_errors, tokens
from search_api.understand.lexicon import Term, lexicon_terms
from search_api.understand.recognise import Vocabulary

MAX_BRANDS = 20_000
MAX_COLORS = 2_000
MAX_KEYWORDS = 10_000
MIN_BRAND_CHARS = 2
"""A one-letter brand would be recognised in every query that has that letter as a word."""


def _contains(words: tuple[str, ...], key: tuple[str, ...]) -> bool:
    n = len(key)
    return any(words[i:i + n] == key for i in range(len(words) - n + 1))


def color_targets(colors: list[str], terms: tuple[Term, ...]) -> dict[tuple[str, str], list[str]]:
    """Lexicon colour → the catalog colour values naming it ("Black/White" is black and white; 黑色 black)."""
    keyed = [(t.value, tuple(tokens(t.text))) for t in terms if t.kind == "color"]
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for color in colors:
        words = tuple(tokens(color))
        for value in dict.fromkeys(v for v, key in keyed if key and _contains(words, key)):
            out[("color", value)].append(color)
    return dict(out)


Targets = dict[tuple[str, str], list[str]]


def brand_terms(brands: list[str], aliases: dict[str, list[str]]) -> tuple[list[Term], Targets]:
    """A term per catalog brand (value: the brand as the catalog writes it) and per alias of it."""
    terms: list[Term] = []
    targets: Targets = {}
    for brand in brands:
        if len(brand.strip()) < MIN_BRAND_CHARS or not tokens(brand):
            continue
        terms.append(Term("brand", brand, brand))
        targets[("brand", brand)] = [brand]
        terms += [Term("brand", brand, a) for a in aliases.get(brand, ()) if len(a.strip()) >= MIN_BRAND_CHARS]
    return terms, targets


def brand_aliases(es: Elasticsearch, alias: str) -> dict[str, list[str]]:
    """Brand → aliases, from brand keywords that are their brand's own name (none without the index).

    Raises:
        EngineError: Elasticsearch failed.

    """
    with engine_errors("reading brand aliases"):
        try:
            response = es.search(index=alias, size=MAX_KEYWORDS, query={"exists": {"field": "aliases"}},
                                 _source=["keyword", "aliases", "brand"], sort=["_doc"])
        except NotFoundError:
            return {}
    out: dict[str, list[str]] = defaultdict(list)
    for hit in response["hits"]["hits"]:
        src = hit["_source"]
        keyword, brand, listed = src.get("keyword"), src.get("brand"), src.get("aliases") or []
        if isinstance(keyword, str) and isinstance(brand, str) and tokens(keyword) == tokens(brand):
            out[brand] += [a for a in ([listed] if isinstance(listed, str) else listed) if isinstance(a, str)]
    return dict(out)


def read_vocabulary(es: Elasticsearch, index: str, keywords_alias: str) -> Vocabulary:
    """The lexicon plus the catalog's brands, brand aliases, colour values and median price.

    Raises:
        EngineError: Elasticsearch failed.

    """
    with engine_errors("reading the catalog vocabulary"):
        response = es.search(index=index, size=0, query={"bool": {"must_not": [{"term": {"tombstone": True}}]}},
                             aggs={"brands": {"terms": {"field": "brand", "size": MAX_BRANDS}},
                                   "colors": {"terms": {"field": "color", "size": MAX_COLORS}},
                                   "price": {"percentiles": {"field": "price", "percents": [50]}}})
    aggs = response["aggregations"]
    brands = [b["key"] for b in aggs["brands"]["buckets"]]
    colors = [c["key"] for c in aggs["colors"]["buckets"]]
    median = next(iter(aggs["price"]["values"].values()), None)
    lexicon = lexicon_terms()
    terms, targets = brand_terms(brands, brand_aliases(es, keywords_alias))
    return Vocabulary((*terms, *lexicon), {**targets, **color_targets(colors, lexicon)},
                      median_price=float(median) if median else None)
