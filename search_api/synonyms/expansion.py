"""Expansion: the alternatives a query's words have under a rule set (pure; no I/O).

`expand(text, rules)` is the one function both the keyword leg and suggestions call, so a word
finds the same equivalents in the search box as in the results:

    >>> expansion = expand("Couches cover", rules)          # rules: "sofa, couch"
    >>> expansion.added                                      # ('sofa',)
    >>> expansion.variants                                   # ('sofa cover',)
    >>> [f.describe() for f in expansion.fired]              # [{'matched': 'couch', 'added': ['sofa'],
    ...                                                      #   'rule': 'synonyms.txt:3'}]

The query is analysed like documents (`term_key`), then scanned left to right for the longest
rule term at each position (as Solr's synonym filter does: "throw pillow" fires its own rule,
not the one for "pillow"). An alternative already typed in the query is not added again. Each
`variant` is the (normalised) query with one matched term replaced by one alternative: what the
keyword leg searches beside the query as typed, as it does a spelling correction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from indexer.index_format import normalize, tokens
from search_api.core import phrases
from search_api.synonyms.rules import Rule, term_key

MAX_ADDED = 16
"""Alternatives per query: each is a query clause, and a query that fires more is a paste, not a search."""

Key = tuple[str, ...]


@dataclass(frozen=True)
class Fired:
    """One rule that fired on a query: the term it matched, what it added, and where it came from."""

    matched: str
    added: tuple[str, ...]
    rule: str

    def describe(self) -> dict[str, Any]:
        """As `meta.synonyms` shows it (with `explain=true`)."""
        return {"matched": self.matched, "added": list(self.added), "rule": self.rule}


@dataclass(frozen=True)
class Expansion:
    """What a query's words add: the rules that fired, in query order, and the query's variants."""

    fired: tuple[Fired, ...] = ()
    variants: tuple[str, ...] = ()
    """The query with one matched term replaced by one alternative, at most `MAX_ADDED`."""

    @property
    def added(self) -> tuple[str, ...]:
        """Every added term once, in the order the rules fired, at most `MAX_ADDED`."""
        return tuple(dict.fromkeys(term for f in self.fired for term in f.added))[:MAX_ADDED]


NOTHING = Expansion()


@dataclass(frozen=True)
class _Entry:
    """A rule as one of its input terms triggers it, with its outputs' analysed words precomputed."""

    term: str
    origin: str
    outputs: tuple[tuple[str, Key], ...]


class SynonymSet:
    """Rules indexed by the analysed words of their input terms; immutable once built."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        """Index `rules` (terms with equal analysed words share an entry, in rule order)."""
        self.rules = tuple(rules)
        index: dict[Key, list[_Entry]] = {}
        for rule in self.rules:
            outputs = tuple((t, term_key(t)) for t in rule.outputs)
            for term in rule.inputs:
                index.setdefault(term_key(term), []).append(_Entry(term, rule.origin, outputs))
        self._index = {key: tuple(entries) for key, entries in index.items()}
        self._longest = max(map(len, self._index), default=0)

    def __len__(self) -> int:
        """Number of rules."""
        return len(self.rules)

    def longest_at(self, words: Sequence[str], start: int) -> tuple[Key, tuple[_Entry, ...]] | None:
        """The longest rule term starting at `words[start]`, with the rules it triggers."""
        return phrases.longest_at(self._index, self._longest, words, start)


EMPTY = SynonymSet()


def _contains(words: Sequence[str], key: Key) -> bool:
    n = len(key)
    return any(tuple(words[i:i + n]) == key for i in range(len(words) - n + 1))


WORD_EDGE = re.compile(r"[0-9a-z\u00c0-\u024f]")
"""A Latin letter or digit: a term that starts or ends with one must not match inside a word."""

WINDOW_SLACK = 2
"""Words a matched term may span beyond its own analysed words (stopwords: "bag of chips")."""


def variant(text: str, term: str, key: Key, alternative: str) -> str:
    """`text` (normalised) with the words that matched `term` replaced by `alternative`.

    The term as written when the query holds it (抱枕 inside 新款抱枕, "couch" but not inside
    "couches"), else the space-separated words whose analysis is `key` ("couches" → couch), else
    the alternative alone (the rest of the query still scores through the query as typed).
    """
    query, written = normalize(text), normalize(term)
    pattern = ("" if not WORD_EDGE.match(written[0]) else r"(?<![0-9a-z\u00c0-\u024f])") + re.escape(written) + (
        "" if not WORD_EDGE.match(written[-1]) else r"(?![0-9a-z\u00c0-\u024f])")
    found = re.search(pattern, query)
    if found:
        return query[:found.start()] + alternative + query[found.end():]
    words = query.split(" ")
    for i in range(len(words)):
        for j in range(i + 1, min(len(words), i + len(key) + WINDOW_SLACK) + 1):
            if tuple(tokens(" ".join(words[i:j]))) == key:
                return " ".join([*words[:i], alternative, *words[j:]])
    return alternative


def expand(text: str, rules: SynonymSet) -> Expansion:
    """The alternatives `text`'s words have under `rules`, and its variants (NOTHING when no rule fires)."""
    if not len(rules):
        return NOTHING
    words = term_key(text)
    fired: list[Fired] = []
    variants: dict[str, None] = {}
    i = 0
    while i < len(words):
        found = rules.longest_at(words, i)
        if found is None:
            i += 1
            continue
        key, entries = found
        for entry in entries:
            added = tuple(t for t, k in entry.outputs if k != key and not _contains(words, k))
            if added:
                fired.append(Fired(entry.term, added, entry.origin))
                variants.update((variant(text, entry.term, key, alt), None) for alt in added)
        i += len(key)
    return Expansion(tuple(fired), tuple(variants)[:MAX_ADDED]) if fired else NOTHING
