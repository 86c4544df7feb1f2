"""Price expressions: "under 50", "below $30", "100元以内", "50-100元", "便宜", "cheap".

Pure regular expressions over the normalised query (NFKC, case-folded). A bare number is never a
price ("200mg", "1/2 inch"): it needs a comparison word, a currency, or a Chinese price suffix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER = r"(\d+(?:\.\d+)?)"
CURRENCY = r"(?:\$|¥|￥|usd|rmb)"
UNIT = r"(?:\s*(?:dollars?|bucks|usd|yuan|rmb|元|块钱|块))"


@dataclass(frozen=True)
class PriceWish:
    """A soft price preference: a range (either end open), or `cheap` (lower is better)."""

    low: float | None = None
    high: float | None = None
    cheap: bool = False

    @property
    def value(self) -> str:
        """As `meta.understood` shows it: `<=50`, `>=100`, `50-100`, `cheap`."""
        if self.cheap:
            return "cheap"
        if self.low is not None and self.high is not None:
            return f"{self.low:g}-{self.high:g}"
        return f"<={self.high:g}" if self.high is not None else f">={self.low:g}"


_MONEY = rf"{CURRENCY}?\s*{NUMBER}{UNIT}?"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"(?:between|from)\s+{CURRENCY}?\s*{NUMBER}{UNIT}?\s+(?:and|to)\s+{_MONEY}"), "range"),
    (re.compile(rf"{CURRENCY}?\s*{NUMBER}\s*(?:-|~|到|至)\s*{CURRENCY}?\s*{NUMBER}{UNIT}"), "range"),
    (re.compile(rf"{CURRENCY}\s*{NUMBER}\s*(?:-|~|to)\s*{CURRENCY}?\s*{NUMBER}"), "range"),
    (re.compile(rf"(?:under|below|less than|cheaper than|at most|no more than|up to|within|<=?)\s*{_MONEY}"),
     "high"),
    (re.compile(rf"(?:低于|不超过|不到|少于|小于|不高于|最多)\s*{NUMBER}{UNIT}?"), "high"),
    (re.compile(rf"{NUMBER}{UNIT}?\s*(?:以内|以下|之内|之下|内)"), "high"),
    (re.compile(rf"(?:over|above|more than|at least|>=?)\s*{_MONEY}"), "low"),
    (re.compile(rf"(?:高于|超过|大于|不低于|至少)\s*{NUMBER}{UNIT}?"), "low"),
    (re.compile(rf"{NUMBER}{UNIT}?\s*(?:以上|起)"), "low"),
    (re.compile(r"(?<![a-z])(?:cheap|cheapest|inexpensive|affordable|budget|low price)(?![a-z])"
                r"|便宜|平价|低价|实惠|划算"), "cheap"),
]


@dataclass(frozen=True)
class PriceMatch:
    """A price expression found in the query: the wish, and where it was (to take it out of the words searched)."""

    wish: PriceWish
    text: str
    start: int
    end: int


def find_price(text: str) -> PriceMatch | None:
    """The query's first price expression (normalised `text`), or None."""
    for pattern, kind in _PATTERNS:
        found = pattern.search(text)
        if found is None:
            continue
        numbers = [float(g) for g in found.groups() if g is not None]
        if kind == "range":
            low, high = sorted(numbers[:2])
            wish = PriceWish(low=low, high=high)
        elif kind == "high":
            wish = PriceWish(high=numbers[0])
        elif kind == "low":
            wish = PriceWish(low=numbers[0])
        else:
            wish = PriceWish(cheap=True)
        return PriceMatch(wish, found.group(0).strip(), found.start(), found.end())
    return None
