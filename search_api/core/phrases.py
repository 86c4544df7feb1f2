"""Longest-phrase lookup over analysed words: synonyms and query understanding both match this way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

V = TypeVar("V")


def longest_at(index: Mapping[tuple[str, ...], V], longest: int, words: Sequence[str],
               start: int) -> tuple[tuple[str, ...], V] | None:
    """The longest key of `index` (keys at most `longest` words) starting at `words[start]`, with its value."""
    for n in range(min(longest, len(words) - start), 0, -1):
        key = tuple(words[start:start + n])
        if key in index:
            return key, index[key]
    return None
