"""The rule set in memory: which rules a query matches, at a cost that does not grow with the rule count.

Rules are analysed once, when the set is (re)loaded, with the analysis queries get
(`normalize`, `tokens`: case, width, stems, stop words, jieba words). A query then looks rules up
instead of scanning them:

- exact: a dict from the rule's words (a tuple) to its rules; one lookup;
- phrase and Latin contains: each rule is filed under its rarest word in the set; the query's
  distinct words are looked up, and only those rules are checked (contiguous words for a phrase,
  all words present for contains);
- Chinese contains (the rule's text inside the query, whatever the word breaks): filed under the
  rule text's first character; the query's distinct characters are looked up.

So a search costs a few dict lookups plus a check of the rules sharing a word with it, with
1,000 rules or none. Rules outside their window are filed too and skipped at match time (the
clock moves between reloads).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from indexer.index_format import detect_language, normalize, tokens

QUALITY = {"exact": 3, "phrase": 2, "contains": 1}
"""A more specific match wins over a looser one of the same priority."""


@dataclass(frozen=True)
class Rule:
    """A stored rule, analysed for matching."""

    id: str
    kind: str
    text: str
    """The rule's query, normalised."""
    words: tuple[str, ...]
    match: str
    products: tuple[str, ...]
    priority: int = 0
    position: int = 0
    by: int = 0
    active_from: datetime | None = None
    active_to: datetime | None = None

    @classmethod
    def from_source(cls, src: Mapping[str, Any]) -> Rule:
        """A rule from its stored document."""
        text = normalize(src["query"])
        return cls(id=src["id"], kind=src["kind"], text=text, words=tuple(tokens(text)), match=src["match"],
                   products=tuple(src["products"]), priority=int(src.get("priority", 0)),
                   position=int(src.get("position", 0)), by=int(src.get("by", 0)),
                   active_from=_time(src.get("active_from")), active_to=_time(src.get("active_to")))

    def active(self, now: datetime) -> bool:
        """Whether `now` is within the rule's window (from inclusive, to exclusive)."""
        started = self.active_from is None or self.active_from <= now
        return started and (self.active_to is None or now < self.active_to)

    @property
    def chinese(self) -> bool:
        """Chinese text is matched as a substring for `contains` (word breaks vary with context)."""
        return detect_language(self.text) == "zh"

    def matches(self, text: str, words: tuple[str, ...]) -> bool:
        """Whether a query (normalised text, analysed words) is one this rule is for."""
        if self.match == "exact":
            return words == self.words
        if self.match == "phrase":
            return contiguous(self.words, words)
        if self.chinese:
            return self.text in text
        return set(self.words) <= set(words)

    def precedence(self) -> tuple[int, int, int, str]:
        """Sort key, winner first: priority, then match specificity, then more words, then id."""
        return (-self.priority, -QUALITY[self.match], -len(self.words), self.id)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def contiguous(needle: tuple[str, ...] | list[str], hay: tuple[str, ...] | list[str]) -> bool:
    """Whether `needle` appears in `hay` as a run of consecutive items."""
    n = len(needle)
    return n > 0 and any(tuple(hay[i:i + n]) == tuple(needle) for i in range(len(hay) - n + 1))


class RuleIndex:
    """An immutable set of rules, filed for lookup by query."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        """File each rule under its exact words, its rarest word, or its first character."""
        self.rules = tuple(rules)
        frequency = Counter(w for rule in self.rules for w in set(rule.words))
        self._exact: dict[tuple[str, ...], list[Rule]] = defaultdict(list)
        self._by_word: dict[str, list[Rule]] = defaultdict(list)
        self._by_char: dict[str, list[Rule]] = defaultdict(list)
        for rule in self.rules:
            if rule.match == "exact":
                self._exact[rule.words].append(rule)
            elif rule.match == "contains" and rule.chinese:
                self._by_char[rule.text[0]].append(rule)
            elif rule.words:
                self._by_word[min(rule.words, key=lambda w: (frequency[w], w))].append(rule)

    def __len__(self) -> int:
        """How many rules the set holds (active or not)."""
        return len(self.rules)

    def matching(self, query: str, now: datetime) -> list[Rule]:
        """The active rules `query` matches, winner first (`Rule.precedence`)."""
        if not self.rules:
            return []
        text = normalize(query)
        words = tuple(tokens(text))
        found = list(self._exact.get(words, ()))
        for word in set(words):
            found += self._by_word.get(word, ())
        for char in set(text):
            found += self._by_char.get(char, ())
        hits = {rule.id: rule for rule in found if rule.active(now) and rule.matches(text, words)}
        return sorted(hits.values(), key=Rule.precedence)


EMPTY = RuleIndex(())
