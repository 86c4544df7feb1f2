"""The suggestion index's documents: one per normalised text, with its popularity and readings.

Sources, all from the catalog of the version being built: category names (every level of the
path), brand names, product phrases mined from titles (`phrases`), and brand keywords with their
aliases (a keyword's document names its owner in `brand_keyword`). A text offered by several
sources is one document: its kind is the strongest (brand > category > product) and a brand
keyword attaches to it. Popularity is the sum over the visible products behind a text of
`(sales + 1) × rating / 5` (sales lead; rating tells equal sellers apart); the completion input is
the normalised text plus its pinyin readings (`indexer.text.pinyin`), so "bz", "baozhen" and
"bao zhen" find 抱枕 without any query-time conversion. Hidden products (off shelf, deleted)
contribute nothing, and no product's own title is ever a suggestion (a phrase needs
`phrases.MIN_PRODUCTS` products).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from indexer.catalog.models import HIDDEN_STATUSES, BrandKeyword, Product
from indexer.format.documents import all_titles
from indexer.format.phrases import Titled, joined, mine, phrases_of
from indexer.text.analysis import normalize, words
from indexer.text.pinyin import readings

KINDS = ("brand", "category", "product")
"""Strongest first: the kind a text shown by several sources takes."""
WEIGHT_MAX = 2**31 - 1
"""Completion weights are Java ints."""
DEFAULT_RATING = 4.0
"""Rating of an unrated product: a little under the usual marketplace average."""
TOP_FACETS = 5
"""Brands and categories kept per suggestion: what personal ranking matches a shopper's affinities with."""
MAX_INPUT_CHARS = 60
"""Matches `max_input_length` in mappings/suggestions.json: nobody types further into a suggestion."""


def popularity(product: Product) -> float:
    """What one product adds to each suggestion it supports."""
    return (max(product.sales or 0, 0) + 1) * (product.rating if product.rating is not None else DEFAULT_RATING) / 5


@dataclass
class Entry:
    """One suggestion text while the catalog is read."""

    text: str
    kind: str
    popularity: float = 0.0
    brands: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    brand_keyword: dict[str, Any] | None = None
    keyword_only: bool = False
    """Only a brand keyword spells it: no suggestion while the keyword is outside its window."""

    def take(self, weight: float, brand: str | None, leaf: str | None) -> None:
        """Count one product behind this text."""
        self.popularity += weight
        if brand:
            self.brands[brand] += weight
        if leaf:
            self.categories[leaf] += weight


@dataclass(frozen=True)
class _Seen:
    titled: Titled
    weight: float
    brand: str | None


class SuggestionSet:
    """Collects a catalog's suggestions: add every product, then every brand keyword, then `documents()`."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._seen: list[_Seen] = []
        self._keywords: list[BrandKeyword] = []

    def _entry(self, text: str, kind: str) -> Entry | None:
        norm = normalize(text)
        if not norm or any(unicodedata.category(ch) == "Cc" for ch in norm):  # completion refuses \x00
            return None
        entry = self._entries.get(norm)
        if entry is None:
            entry = self._entries[norm] = Entry(text.strip(), kind)
        elif KINDS.index(kind) < KINDS.index(entry.kind):
            entry.text, entry.kind = text.strip(), kind
        return entry

    def add_product(self, product: Product) -> None:
        """Count a product toward its brand and categories, and keep its title words for phrases."""
        if product.status in HIDDEN_STATUSES:
            return
        weight, leaf = popularity(product), (product.category[-1] if product.category else None)
        for text, kind in ((product.brand, "brand"), *((c, "category") for c in product.category)):
            if text and (entry := self._entry(text, kind)):
                entry.take(weight, product.brand, leaf)
        titles = tuple(tuple(words(t)) for t in all_titles(product))
        self._seen.append(_Seen(Titled(titles, leaf), weight, product.brand))

    def add_brand_keyword(self, keyword: BrandKeyword) -> None:
        """A keyword and its aliases become suggestions that name their owner."""
        self._keywords.append(keyword)

    def documents(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(id, document) of every suggestion."""
        self._add_phrases()
        self._add_keywords()
        for norm, entry in self._entries.items():
            yield doc_id(norm), suggestion_doc(norm, entry)

    def _add_phrases(self) -> None:
        phrases = mine(s.titled for s in self._seen)
        for seen in self._seen:
            found = {p for words_ in seen.titled.titles for p in phrases_of(words_, phrases)}
            for phrase in found:
                if entry := self._entry(joined(phrase), "product"):
                    entry.take(seen.weight, seen.brand, seen.titled.leaf)
        self._seen.clear()

    def _add_keywords(self) -> None:
        brand_weight = {e.text: e.popularity for e in self._entries.values() if e.kind == "brand"}
        for kw in sorted(self._keywords, key=lambda k: (-k.priority, k.id)):  # the strongest claim wins a text
            owner = {"id": kw.id, "keyword": kw.keyword, "brand_id": kw.brand_id, "brand": kw.brand,
                     "active_from": kw.active_from.isoformat() if kw.active_from else None,
                     "active_to": kw.active_to.isoformat() if kw.active_to else None}
            for text in (kw.keyword, *kw.aliases):
                entry = self._entries.get(normalize(text))
                known = entry is not None
                if entry is None:
                    entry = self._entry(text, "brand")
                if entry is None or entry.brand_keyword is not None:
                    continue
                entry.brand_keyword = owner
                if not known:  # a keyword no product spells: as popular as its owner
                    entry.keyword_only = True
                    entry.popularity = brand_weight.get(kw.brand, 0.0)
                    entry.brands[kw.brand] += 1


def doc_id(norm: str) -> str:
    """A fixed-size id for a normalised text (ids are capped at 512 bytes)."""
    return hashlib.blake2b(norm.encode(), digest_size=12).hexdigest()


def suggestion_doc(norm: str, entry: Entry) -> dict[str, Any]:
    """The ES document of one suggestion."""
    inputs = [x[:MAX_INPUT_CHARS] for x in (norm, *readings(norm))]
    weight = min(round(entry.popularity), WEIGHT_MAX)
    return {
        "text": entry.text,
        "norm": norm,
        "kind": entry.kind,
        "popularity": weight,
        "brands": [b for b, _ in entry.brands.most_common(TOP_FACETS)],
        "categories": [c for c, _ in entry.categories.most_common(TOP_FACETS)],
        "brand_keyword": entry.brand_keyword,
        "keyword_only": entry.keyword_only,
        "suggest": {"input": list(dict.fromkeys(inputs)), "weight": weight},
    }
