"""Recognition (pure): a query's brands, colours, sizes, gender/age words, materials and price.

Words are matched like synonyms are (`synonyms.expansion`): the query is analysed as documents
are (jieba words, English stems) and scanned left to right for the longest known term, so
"black+decker drill" names a brand, not a colour. Chinese terms of two or more characters are also
found inside longer words jieba did not split (棉语抱枕 → the brand 棉语). A price expression is
taken out of the words searched ("hoodie under 50" searches "hoodie"), and so is an exclusion
("bottle without straw" searches "bottle": `negation`), unless nothing else is left.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from indexer.index_format import cjk_chars, normalize, tokens
from search_api.core import phrases
from search_api.understand.lexicon import KINDS, Term
from search_api.understand.negation import find_exclusions, without
from search_api.understand.price import PriceWish, find_price

Key = tuple[str, ...]


@dataclass(frozen=True)
class Part:
    """One recognised part of a query, with what a boost needs to find it in the catalog."""

    kind: str
    text: str
    """The words that named it (as the vocabulary writes them)."""
    value: str
    """The canonical value: the catalog's brand, the lexicon's colour, a price wish (`<=50`)."""
    names: tuple[str, ...] = ()
    """Every word for the value, both languages: what the boost matches in analysed fields."""
    targets: tuple[str, ...] = ()
    """Catalog keyword values that are this value (brand and colour fields)."""

    def describe(self) -> dict[str, str]:
        """As `meta.understood` and `explain.understood` show it."""
        return {"kind": self.kind, "text": self.text, "value": self.value}


@dataclass(frozen=True)
class Understanding:
    """What a query says besides its words: recognised parts, a price wish, and the words to search."""

    text: str
    """The query the legs search: as typed, or normalised with the price expression and exclusions taken out."""
    parts: tuple[Part, ...] = ()
    price: PriceWish | None = None
    reference_price: float | None = None
    """The catalog's median price: where "cheap" halves its boost."""

    def describe(self) -> list[dict[str, str]]:
        """`meta.understood`: every part, in kind order (price, then exclusions, last)."""
        return [p.describe() for p in self.parts]


class Vocabulary:
    """The terms a query can name, indexed for the scan; immutable once built."""

    def __init__(self, terms: Iterable[Term], targets: Mapping[tuple[str, str], Sequence[str]] | None = None,
                 median_price: float | None = None) -> None:
        """Index `terms` by analysed words (Chinese terms also by their characters).

        `targets`: (kind, value) → the catalog keyword values that are it (brands, colours);
        `median_price`: how far "cheap" reaches.
        """
        self.terms = tuple(terms)
        self.targets = {k: tuple(v) for k, v in (targets or {}).items()}
        self.median_price = median_price
        index: dict[Key, list[Term]] = {}
        cjk: dict[str, list[Term]] = {}
        names: dict[tuple[str, str], list[str]] = {}
        for term in self.terms:
            key = tuple(tokens(term.text))
            if key:
                index.setdefault(key, []).append(term)
            written = normalize(term.text)
            if len(written) >= 2 and len(cjk_chars(written)) == len(written):
                cjk.setdefault(written, []).append(term)
            names.setdefault((term.kind, term.value), []).append(term.text)
        self._index = {k: tuple(v) for k, v in index.items()}
        self._cjk = sorted(((w, tuple(t)) for w, t in cjk.items()), key=lambda kv: -len(kv[0]))
        self._longest = max(map(len, index), default=0)
        self._names = {k: tuple(dict.fromkeys(v)) for k, v in names.items()}

    def longest_at(self, words: Sequence[str], start: int) -> tuple[Key, tuple[Term, ...]] | None:
        """The longest known term starting at `words[start]`."""
        return phrases.longest_at(self._index, self._longest, words, start)

    def cjk_terms(self) -> list[tuple[str, tuple[Term, ...]]]:
        """Chinese terms of two or more characters, longest first."""
        return self._cjk

    def part(self, term: Term) -> Part:
        """The part a matched term names, with every name and catalog value of its value."""
        key = (term.kind, term.value)
        return Part(term.kind, term.text, term.value, self._names.get(key, (term.text,)), self.targets.get(key, ()))


WRITTEN_KINDS = frozenset({"brand", "material"})
"""Kinds recognised only as written, not by stem: the brand "humane" is not in "humanity", the
material glass not in "glasses"."""

LATIN = r"[0-9a-z\u00c0-\u024f]"


def written_in(query: str, term: Term) -> bool:
    """Whether the query holds the term as written (word-bounded where it starts or ends with a Latin letter)."""
    written = normalize(term.text)
    pattern = ("(?<!" + LATIN + ")" if re.match(LATIN, written[0]) else "") + re.escape(written) + (
        "(?!" + LATIN + ")" if re.match(LATIN, written[-1]) else "")
    return re.search(pattern, query) is not None


def _pick(terms: Iterable[Term], query: str) -> Term | None:
    """One term among several with the same words (None: none is usable).

    Lexicon kinds come before brands ("blue" is a colour before it is the brand Blue); brands and
    materials count only as written in the query.
    """
    usable = [t for t in terms if t.kind not in WRITTEN_KINDS or written_in(query, t)]
    if not usable:
        return None
    return min(usable, key=lambda t: (t.kind == "brand", KINDS.index(t.kind) if t.kind in KINDS else len(KINDS)))


def understand(text: str, vocabulary: Vocabulary) -> Understanding:
    """The query's recognised parts, its price wish and the words left to search."""
    query = normalize(text)
    price = find_price(query)
    rest = query
    if price is not None:
        rest = " ".join((query[:price.start] + " " + query[price.end:]).split())
        if not tokens(rest):  # "便宜" alone: the words are all there is to search
            rest = query
    exclusions = find_exclusions(rest)
    if exclusions and tokens(kept := without(rest, exclusions)):
        rest = kept
    else:
        exclusions = []
    found: dict[tuple[str, str], Part] = {}
    words = tokens(rest)
    i = 0
    while i < len(words):
        match = vocabulary.longest_at(words, i)
        if match is None:
            i += 1
            continue
        key, terms = match
        term = _pick(terms, rest)
        if term is None:  # known words, but not as written: try shorter terms from here
            i += 1
            continue
        found.setdefault((term.kind, term.value), vocabulary.part(term))
        i += len(key)
    remaining = rest
    for written, terms in vocabulary.cjk_terms():
        if written in remaining and (term := _pick(terms, remaining)) is not None:
            found.setdefault((term.kind, term.value), vocabulary.part(term))
            remaining = remaining.replace(written, " ")
    parts = sorted(found.values(), key=lambda p: KINDS.index(p.kind) if p.kind in KINDS else len(KINDS))
    if price is not None:
        parts.append(Part("price", price.text, price.wish.value))
    parts += [Part("exclude", e.text, e.what) for e in exclusions]
    searched = rest if rest != query else text  # the query as typed unless a price or an exclusion came out
    return Understanding(searched, tuple(parts), price.wish if price is not None else None, vocabulary.median_price)
