"""Exclusions: "water bottle without straw", "抱枕不含芯", "不带盖的杯子".

A word a shopper excludes must not count *for* a product: searched as typed, "without straw"
ranks bottles with a straw first, since they match one more word. So the exclusion is taken out of
the words both legs search (like a price expression) and shown in `meta.understood`; it never
filters, because "no straw" and "straw-free" titles name the very word they exclude. The keyword
leg ranks titles that name it (and do not say they lack it) lower (`boosts.demotion`).

Pure regular expressions over the normalised query. English: "without" (or one edit from it:
"withuot") or "w/o", to the end of the query or the next comma ("without mesh liner"). "no"
and "not" are left alone: "no show socks" and "not enough gorman" are what shoppers want.
Chinese: 不含 / 不带 / 不要 / 无需, to the next 的, space or punctuation ("不带盖的杯子" excludes 盖
and searches 杯子). 无 alone is left alone (无线 is "wireless").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PUNCTUATION = ",，;；.。!！?？、"
"""Where an exclusion ends (besides the query's end; in Chinese also a space or 的)."""
_WORD = re.compile(r"(?<![0-9a-z])[a-z/]+(?![0-9a-z])")
_EXCLUDED = re.compile(rf"\s+(?P<what>[^{_PUNCTUATION}]+?)\s*(?=[{_PUNCTUATION}]|$)")
"""What an English "without" excludes: the words up to the query's end or the next punctuation."""
_CHINESE = re.compile(rf"(?:不含|不带|不要|无需)(?P<what>[^\s的{_PUNCTUATION}]+)(?:的)?")


def _one_edit(word: str, target: str) -> bool:
    """Whether `word` is `target` or one deletion, insertion, substitution or swap away from it."""
    if word == target:
        return True
    if abs(len(word) - len(target)) > 1:
        return False
    i = 0
    while i < min(len(word), len(target)) and word[i] == target[i]:
        i += 1
    return (word[i + 1:] == target[i + 1:] or word[i + 1:] == target[i:] or word[i:] == target[i + 1:]
            or word[i + 1:i + 2] + word[i:i + 1] + word[i + 2:] == target[i:])


def says_without(word: str) -> bool:
    """"without", "w/o", or "without" misspelled by one edit ("withuot", "witout"): shoppers type fast."""
    return word == "w/o" or (len(word) >= 6 and _one_edit(word, "without"))


@dataclass(frozen=True)
class Exclusion:
    """An excluded phrase and where its expression stands in the normalised query."""

    text: str
    """The expression as written ("without straw")."""
    what: str
    """What is excluded ("straw")."""
    start: int
    end: int


def find_exclusions(query: str) -> list[Exclusion]:
    """Every exclusion in the normalised `query`, in order (none overlap)."""
    spans = []
    for word in _WORD.finditer(query):
        if says_without(word.group()) and (rest := _EXCLUDED.match(query, word.end())):
            spans.append((word.start(), rest.end(), rest.group("what")))
    spans += [(m.start(), m.end(), m.group("what")) for m in _CHINESE.finditer(query)]
    found: list[Exclusion] = []
    for start, end, what in spans:
        if not any(start < e.end and e.start < end for e in found):
            found.append(Exclusion(query[start:end].strip(), what.strip(), start, end))
    return sorted(found, key=lambda e: e.start)


def without(query: str, exclusions: list[Exclusion]) -> str:
    """The query with the exclusions' expressions taken out (spaces collapsed)."""
    out, last = [], 0
    for e in exclusions:
        out.append(query[last:e.start])
        last = e.end
    out.append(query[last:])
    return " ".join(" ".join(out).split())
