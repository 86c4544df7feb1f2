"""Short product phrases mined from titles: the catalog's own nouns ("memory foam", "飞机枕").

Whole titles make poor suggestions (brand, adjectives, "limited offer"), so suggestions offer the
word n-grams of titles that behave like phrases: used by enough products; free to start and end
where they do (the words before and after them vary, so "foam neck" — always after "memory" —
and "memory foam neck" — always before "support" — are cut-offs, not phrases); cohesive (its
parts mostly occur together: "phone case" is, "pink phone case" — any colour, any product — is
not); and specific to a few categories ("free shipping" and "black" appear under every one).
Counts are of products (each title word list counted once per product). Pure: titles in, phrases out.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

MAX_WORDS = 3
"""Longer n-grams are mostly whole title tails; three words cover "memory foam pillow", "neck support pillow"."""
MIN_PRODUCTS = 3
"""A phrase used by fewer products is one product's wording, not the catalog's (and never one title)."""
MIN_VARIETY = 3
"""Distinct words (or a title edge) needed before and after a phrase for it to stand on its own
(2 let through fragments such as "neck", from "neck pillow" and "neck support")."""
MIN_COHESION = 0.3
"""At every split of a phrase, its count over the larger count of its two parts: below this the
parts are a free combination (an adjective or colour with any product), not a phrase."""
MAX_CATEGORY_SHARE = 0.2
"""A phrase spread over more than this share of the catalog's leaf categories is marketing or a
colour ("free shipping", "black"), not a product; at least `MIN_CATEGORIES_SPREAD` are allowed."""
MIN_CATEGORIES_SPREAD = 3
MIN_CHARS = 2
"""A shown phrase has at least this many characters (three when all Latin: "m", "xl" are sizes)."""
START, END = "\x02", "\x03"
"""Title edges, counted as neighbours so a phrase that opens or closes titles is free on that side."""


def joined(words: Sequence[str]) -> str:
    """Words as shown: a space between two Latin words, none next to Chinese ("u型枕", "memory foam")."""
    out = ""
    for word in words:
        if out and out[-1].isascii() and word[:1].isascii():
            out += " "
        out += word
    return out


@dataclass(frozen=True)
class Titled:
    """What phrase mining needs of one product: its titles as word lists, and its leaf category."""

    titles: tuple[tuple[str, ...], ...]
    leaf: str | None


def _grams(words: Sequence[str], longest: int) -> Iterator[tuple[str, ...]]:
    padded = (START, *words, END)
    for n in range(1, longest + 1):
        for i in range(len(padded) - n + 1):
            yield padded[i:i + n]


def mine(items: Iterable[Titled]) -> set[tuple[str, ...]]:
    """The phrases (as word tuples) of a catalog; see the module docstring for the rules."""
    items = list(items)
    products: Counter[tuple[str, ...]] = Counter()
    for item in items:
        products.update({gram for words in item.titles for gram in _grams(words, MAX_WORDS + 1)})
    after: Counter[tuple[str, ...]] = Counter()
    before: Counter[tuple[str, ...]] = Counter()
    for gram in products:
        if len(gram) > 1:
            after[gram[:-1]] += 1
            before[gram[1:]] += 1
    candidates = {g for g, n in products.items()
                  if n >= MIN_PRODUCTS and len(g) <= MAX_WORDS and START not in g and END not in g
                  and _whole(g) and after[g] >= MIN_VARIETY and before[g] >= MIN_VARIETY
                  and _cohesive(g, products)}
    return _specific(items, candidates)


def _whole(gram: tuple[str, ...]) -> bool:
    """Long enough to show, and not opening on a one-character word (the tail of a split brand name, a size)."""
    text = joined(gram)
    return len(text) >= MIN_CHARS + text.isascii() and (len(gram) == 1 or len(gram[0]) > 1)


def _cohesive(gram: tuple[str, ...], counts: Counter[tuple[str, ...]]) -> bool:
    """See MIN_COHESION; single words are."""
    n = counts[gram]
    return all(n >= MIN_COHESION * max(counts[gram[:i]], counts[gram[i:]]) for i in range(1, len(gram)))


def _specific(items: list[Titled], candidates: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """Candidates found under few enough leaf categories."""
    leaves: dict[tuple[str, ...], set[str]] = {}
    all_leaves = set()
    for item in items:
        if item.leaf is None:
            continue
        all_leaves.add(item.leaf)
        for words in item.titles:
            for gram in _grams(words, MAX_WORDS):
                if gram in candidates:
                    leaves.setdefault(gram, set()).add(item.leaf)
    limit = max(MIN_CATEGORIES_SPREAD, math.floor(MAX_CATEGORY_SHARE * len(all_leaves)))
    return {g for g in candidates if len(leaves.get(g, ())) <= limit}


def phrases_of(words: Sequence[str], phrases: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """The mined phrases one title holds."""
    return {g for g in _grams(words, MAX_WORDS) if g in phrases}
