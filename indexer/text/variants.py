"""Forms a shopper types instead of the catalog's own words: pinyin, and words to spell-check against.

Both are computed at index time (never per query): `pinyin_words` gives each Chinese word of two or
more characters as its toneless pinyin run together (抱枕 → "baozhen"), so a search box query typed
in pinyin matches Chinese titles; `spelling_words` gives the unstemmed Latin words and those pinyin
words, the vocabulary Elasticsearch's term suggester corrects a misspelled query word against
(stems are no good for that: "memori" is not what a shopper meant to type).
Single characters are left out of the pinyin: "bao" or "long" alone are English words too often.
"""

from __future__ import annotations

from functools import lru_cache

from indexer.text.analysis import runs, segment
from indexer.text.pinyin import readings

MIN_PINYIN_CHARS = 2
"""Chinese words shorter than this get no pinyin form (see the module docstring)."""

MIN_SPELL_CHARS = 2
"""Latin words shorter than this are never corrected, so they need not be in the vocabulary."""


@lru_cache(maxsize=200_000)
def word_pinyin(word: str) -> str:
    """Toneless pinyin of one Chinese word, syllables run together ('抱枕' → 'baozhen', '女' → 'nv')."""
    found = readings(word)
    return found[0] if found else ""


def pinyin_words(text: str) -> list[str]:
    """The pinyin of each Chinese word (jieba's, ≥ MIN_PINYIN_CHARS characters) in `text`, in order."""
    out: list[str] = []
    for lang, run in runs(text):
        if lang == "zh":
            out.extend(p for w in segment(run) if len(w) >= MIN_PINYIN_CHARS and (p := word_pinyin(w)))
    return out


def latin_words(text: str) -> list[str]:
    """Normalised, unstemmed Latin-script words of `text` (digits alone are not words)."""
    return [run for lang, run in runs(text)
            if lang == "en" and len(run) >= MIN_SPELL_CHARS and not run.replace(".", "").isdigit()]


def pinyin_text(text: str) -> str:
    """Space-joined `pinyin_words`, for a `whitespace`-analysed field."""
    return " ".join(pinyin_words(text))


def spelling_text(text: str) -> str:
    """Space-joined Latin words and pinyin words: the vocabulary spelling corrections come from."""
    return " ".join(latin_words(text) + pinyin_words(text))
