"""The maintained lexicon (`lexicon.json`): kind → canonical value → the words shoppers type for it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LEXICON_FILE = Path(__file__).with_name("lexicon.json")

KINDS = ("brand", "color", "size", "gender", "age", "material", "price")
"""Every kind `meta.understood` can name, in the order boosts are listed."""


@dataclass(frozen=True)
class Term:
    """One word (or phrase) naming a value of a kind: "黑色" names the colour black."""

    kind: str
    value: str
    text: str


@cache
def lexicon_terms(path: Path = LEXICON_FILE) -> tuple[Term, ...]:
    """Every term of the lexicon file (read once per process)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return tuple(Term(kind, value, text) for kind, values in data.items() if not kind.startswith("_")
                 for value, texts in values.items() for text in texts)


def names_of(kind: str, value: str, terms: tuple[Term, ...]) -> tuple[str, ...]:
    """Every word naming `value` of `kind` (both languages): what a boost matches in the catalog's fields."""
    return tuple(dict.fromkeys(t.text for t in terms if t.kind == kind and t.value == value))
