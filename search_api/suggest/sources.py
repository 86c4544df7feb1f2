"""Where suggestions come from: the `SuggestionSource` interface and the catalog's completion index.

A source answers one (normalised) prefix with ranked `Candidate`s. Today there is one, the
catalog (`CatalogSource`: the version's `<prefix>-suggestions` index, product phrases, categories,
brands and brand keywords); popular past queries will be a second one of kind `query` (issue 15's
query log), merged by `rank` with no change here. A source's `score` is on the catalog's scale
(popularity, `(sales + 1) × rating / 5` summed over products), so a query log scales its counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from elasticsearch import Elasticsearch, NotFoundError

from indexer.index_format import engine_errors


class Kind(StrEnum):
    """What a suggestion is: a past query, a product phrase, a brand (or brand keyword), a category."""

    QUERY = "query"
    PRODUCT = "product"
    BRAND = "brand"
    CATEGORY = "category"


@dataclass(frozen=True)
class Candidate:
    """One suggestion a source offers for a prefix."""

    text: str
    norm: str
    kind: Kind
    score: float
    typo: bool = False
    """Matched only with one edit: ranked after every exact prefix match."""
    brand_keyword: Mapping[str, str] | None = None
    brands: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """The wire form."""
        return {"text": self.text, "kind": self.kind.value,
                "brand_keyword": dict(self.brand_keyword) if self.brand_keyword else None}


class SuggestionSource(Protocol):
    """Anything that completes a prefix."""

    def suggest(self, prefix: str, *, size: int) -> list[Candidate]:
        """Up to `size` exact-prefix candidates for a normalised prefix (and up to `size` one-typo ones), best first."""
        ...


FUZZY = {"fuzziness": 1, "prefix_length": 3, "min_length": 4, "transpositions": True}
"""One typo ("memroy" → memory: a transposition is one edit), never in the first three characters,
which shoppers rarely get wrong and which keep the fuzzy automaton small."""
TIMEOUT_S = 1.0
"""A suggestion later than this is useless (the shopper has typed on): fail fast instead."""
MATCHING_INPUTS_MAX = 3
"""Inputs of one text that can match one prefix (full pinyin, spaced pinyin and initials all start
with the same letter). Lucene's completion top N counts matching inputs, not texts, so asking for
N can return fewer and lesser texts: on the 100k sample, 31 of 50 one- and two-letter prefixes got
a wrong top 6 when asking for 6, none when asking for 18 (the same for 8 and 10)."""
ANSWER_PATH = ["suggest.*.options._source"]
"""Only the documents: Elasticsearch's answer shrinks to what is read."""
FIELDS = ["text", "norm", "kind", "popularity", "brands", "categories", "brand_keyword", "keyword_only"]


def completion_body(prefix: str, *, size: int) -> dict[str, Any]:
    """The completion request: exact prefix matches, plus one-typo matches for Latin text (English, pinyin).

    Two suggesters in one request, because a fuzzy completion scores exact and fuzzy matches alike.
    """
    suggest: dict[str, Any] = {"exact": {"prefix": prefix, "completion": {"field": "suggest", "size": size}}}
    if prefix.isascii() and len(prefix) >= FUZZY["min_length"]:
        suggest["typo"] = {"prefix": prefix, "completion": {"field": "suggest", "size": size, "fuzzy": FUZZY}}
    return {"_source": FIELDS, "suggest": suggest}


@dataclass(frozen=True)
class CatalogSource:
    """The live version's suggestion index (`indexer.format.suggestions` writes it)."""

    es: Elasticsearch
    alias: str
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def suggest(self, prefix: str, *, size: int) -> list[Candidate]:
        """Exact matches by popularity, then one-typo matches; none before the first build with suggestions.

        Raises:
            EngineError: Elasticsearch failed.

        """
        with engine_errors(f"suggesting from {self.alias}"):
            try:
                body = self.es.options(request_timeout=TIMEOUT_S).search(
                    index=self.alias, size=0, track_total_hits=False, filter_path=ANSWER_PATH,
                    **completion_body(prefix, size=size * MATCHING_INPUTS_MAX)).body
            except NotFoundError:
                return []
        out: list[Candidate] = []
        for name in ("exact", "typo"):
            found = [c for entry in body.get("suggest", {}).get(name, []) for o in entry.get("options", ())
                     if (c := self._candidate(o["_source"], name == "typo"))]
            out += sorted(found, key=lambda c: -c.score)[:size]
        return out

    def _candidate(self, src: dict[str, Any], typo: bool) -> Candidate | None:
        """A candidate from a document; a brand keyword outside its window names no owner (or is dropped)."""
        keyword = src.get("brand_keyword")
        if keyword and not active(keyword, self.now):
            if src.get("keyword_only"):
                return None
            keyword = None
        owner = {k: keyword[k] for k in ("id", "keyword", "brand_id", "brand")} if keyword else None
        return Candidate(text=src["text"], norm=src["norm"], kind=Kind(src["kind"]), score=float(src["popularity"]),
                         typo=typo, brand_keyword=owner, brands=tuple(src.get("brands") or ()),
                         categories=tuple(src.get("categories") or ()))


def active(keyword: Mapping[str, Any], now: datetime) -> bool:
    """Whether a brand keyword's window holds `now` (open ends are open)."""
    start, end = keyword.get("active_from"), keyword.get("active_to")
    return (not start or datetime.fromisoformat(start) <= now) and (not end or now < datetime.fromisoformat(end))
