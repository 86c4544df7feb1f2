"""Pinyin readings of Chinese text, computed when indexing so queries typed in pinyin match.

`pypinyin` picks each character's reading from its phrase dictionary (重庆 → chong qing); only the
index pays for it: a query is matched as typed against the readings stored beside the text.
"""

from __future__ import annotations

from pypinyin import lazy_pinyin

from indexer.text.analysis import cjk_chars, normalize


def readings(text: str) -> tuple[str, ...]:
    """Full pinyin joined and spaced, and initials, of text holding Chinese; () for other text.

    "抱枕" → ("baozhen", "bao zhen", "bz"); Latin runs are kept as they are ("u型枕" → "uxingzhen",
    "u xing zhen", "uxz"), so a mixed phrase is typed the way a shopper would type it.
    """
    norm = normalize(text)
    if not cjk_chars(norm):
        return ()
    syllables = [s for s in (x.strip() for x in lazy_pinyin(norm, errors="default")) if s]
    parts = [part for s in syllables for part in s.split()]
    full = "".join(parts)
    spaced = " ".join(parts)
    initials = "".join(part[0] for part in parts)
    return tuple(dict.fromkeys(r for r in (full, spaced, initials) if r))
