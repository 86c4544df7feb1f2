"""Exclusions: "water bottle without straw", "抱枕不含芯", "不带盖的杯子".

A word a shopper excludes must not count *for* a product: searched as typed, "without straw"
ranks bottles with a straw first, since they match one more word. So the exclusion is taken out of
the words both legs search (like a price expression) and shown in `meta.understood`; it never
filters, because "no straw" and "straw-free" titles name the very word they exclude. The keyword
leg ranks titles that name it (and do not say they lack it) lower (`boosts.demotion`).

Pure regular expressions over the normalised query. English: "without" or "w/o", to the end of
the query or the next comma ("without mesh liner"). "no" and "not" are left alone: "no show socks"
and "not enough gorman" are what shoppers want. Chinese: 不含 / 不带 / 不要 / 无需, to the next 的,
space or punctuation ("不带盖的杯子" excludes 盖 and searches 杯子). 无 alone is left alone (无线 is
"wireless").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PUNCTUATION = ",，;；.。!！?？、"
"""Where an exclusion ends (besides the query's end; in Chinese also a space or 的)."""
_PATTERNS = (
    re.compile(rf"(?<![0-9a-z])(?:without|w/o)\s+(?P<what>[^{_PUNCTUATION}]+?)\s*(?=[{_PUNCTUATION}]|$)"),
    re.compile(rf"(?:不含|不带|不要|无需)(?P<what>[^\s的{_PUNCTUATION}]+)(?:的)?"),
)


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
    found: list[Exclusion] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(query):
            if any(match.start() < e.end and e.start < match.end() for e in found):
                continue
            found.append(Exclusion(match.group(0).strip(), match.group("what").strip(), match.start(), match.end()))
    return sorted(found, key=lambda e: e.start)


def without(query: str, exclusions: list[Exclusion]) -> str:
    """The query with the exclusions' expressions taken out (spaces collapsed)."""
    out, last = [], 0
    for e in exclusions:
        out.append(query[last:e.start])
        last = e.end
    out.append(query[last:])
    return " ".join(" ".join(out).split())
