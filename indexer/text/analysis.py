"""Text analysis shared by index time and query time.

Elasticsearch's server core has no Chinese segmenter and no English stemmer (those live in
plugins or analysis-common), so analysis happens here, once, in Python: the index stores
space-joined tokens in `whitespace`-analysed fields and every query is analysed by the very same
functions. Changing anything here changes the index format: rebuild after editing.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

import jieba
import snowballstemmer

ZH_WORDS = Path(__file__).with_name("zh_words.txt")
"""Marketplace vocabulary jieba's general dictionary splits wrongly (抱枕 → 抱 / 枕)."""

ANALYSIS_FORMAT = 2
"""Bump when the analysis functions change their output: cached analyses keyed on it expire."""


@lru_cache(maxsize=1)
def analysis_fingerprint() -> str:
    """What determines the tokens: the format number, jieba's and pypinyin's versions, the shipped vocabulary."""
    import hashlib

    from pypinyin import __version__ as pypinyin_version

    digest = hashlib.sha1(f"{ANALYSIS_FORMAT}|{jieba.__version__}|{pypinyin_version}|".encode(),
                          usedforsecurity=False)
    if ZH_WORDS.exists():
        digest.update(ZH_WORDS.read_bytes())
    return digest.hexdigest()[:16]

_RUN = re.compile(
    r"(?P<han>[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)"
    r"|(?P<kana>[\u3040-\u30ff]+)"
    r"|(?P<hangul>[\uac00-\ud7af]+)"
    r"|(?P<latin>[0-9a-z\u00c0-\u024f]+(?:['.][0-9a-z\u00c0-\u024f]+)*)"
)
_SCRIPT_LANG = {"han": "zh", "kana": "ja", "hangul": "ko", "latin": "en"}

# A short list: BM25 already discounts common words; these only add noise to phrase-less matching.
_STOPWORDS = frozenset(
    "a an and are as at be by for from in is it of on or the to with".split()
)


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), case-fold and collapse white space."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split())


def runs(text: str) -> Iterator[tuple[str, str]]:
    """Yield (language, run) for each same-script run of normalised text, in order."""
    for match in _RUN.finditer(normalize(text)):
        kind = match.lastgroup or "latin"
        yield _SCRIPT_LANG[kind], match.group()


def language_counts(text: str) -> dict[str, int]:
    """Characters of CJK scripts and words of Latin script, per language."""
    counts: dict[str, int] = {}
    for lang, run in runs(text):
        weight = 1 if lang == "en" else len(run)
        counts[lang] = counts.get(lang, 0) + weight
    return counts


def detect_language(text: str) -> str:
    """Dominant language of a value by script: 'zh', 'ja', 'ko', 'en', or 'und' when no letters.

    One CJK character carries about as much meaning as one Latin word, so they are compared 1:1.
    """
    counts = language_counts(text)
    if not counts:
        return "und"
    return max(sorted(counts), key=lambda lang: counts[lang])


def covered_text(text: str, languages: Iterable[str]) -> str:
    """Keep only the runs a model can read, so a blind model is never fed [UNK]s.

    `languages` containing '*' keeps everything.
    """
    langs = set(languages)
    if "*" in langs:
        return normalize(text)
    return " ".join(run for lang, run in runs(text) if lang in langs)


@lru_cache(maxsize=1)
def _segmenter() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    if ZH_WORDS.exists():
        for line in ZH_WORDS.read_text(encoding="utf-8").splitlines():
            word = line.split("#", 1)[0].strip()
            if word:
                tokenizer.add_word(word, freq=200_000)
    return tokenizer


_thread = threading.local()


def _stemmer() -> snowballstemmer.stemmer:
    """A stemmer per thread.

    A Snowball stemmer keeps the word it works on in itself: two threads stemming at once with one
    stemmer corrupt each other (an IndexError, or a wrong stem).
    """
    stemmer = getattr(_thread, "stemmer", None)
    if stemmer is None:
        stemmer = _thread.stemmer = snowballstemmer.stemmer("english")
    return stemmer


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """English Snowball stem of one lower-case word ('pillows' → 'pillow')."""
    return str(_stemmer().stemWord(word))


@lru_cache(maxsize=200_000)
def segment(run: str) -> tuple[str, ...]:
    """The words jieba finds in one Chinese run, with the parts of long words."""
    # cut_for_search adds the parts of long words (大礼包 → 大礼, 礼包, 大礼包) for recall. Cached:
    # catalogs repeat the same runs (product nouns, materials) across thousands of titles.
    return tuple(w for w in _segmenter().cut_for_search(run, HMM=True) if w.strip())


def words(text: str) -> list[str]:
    """Surface words in order, without overlaps: jieba's plain cut for Chinese, unstemmed Latin words.

    For phrases shown to shoppers (suggestions), where `tokens` would stem and repeat sub-words.
    """
    out: list[str] = []
    for lang, run in runs(text):
        out.extend(_cut(run) if lang == "zh" else (run,))
    return out


@lru_cache(maxsize=200_000)
def _cut(run: str) -> tuple[str, ...]:
    return tuple(w for w in _segmenter().cut(run, HMM=True) if w.strip())


def tokens(text: str) -> list[str]:
    """Word tokens: jieba words for Chinese, stemmed words for Latin script, stopwords dropped."""
    out: list[str] = []
    for lang, run in runs(text):
        if lang == "zh":
            out.extend(segment(run))
        elif lang == "en":
            if run not in _STOPWORDS:
                out.append(stem(run).replace("'", ""))
        else:
            out.extend(run)  # kana/hangul: characters, until a segmenter is configured
    return out


def cjk_chars(text: str) -> list[str]:
    """Single CJK characters: a recall net for words the segmenter split differently."""
    return [ch for lang, run in runs(text) if lang != "en" for ch in run]


def analyzed(text: str) -> str:
    """Space-joined `tokens` for a `whitespace`-analysed field."""
    return " ".join(tokens(text))


@lru_cache(maxsize=50_000)
def analyzed_cached(text: str) -> str:
    """`analyzed` for values that repeat across a catalog (brands, category paths, attributes)."""
    return analyzed(text)


def analyzed_cjk(text: str) -> str:
    """Space-joined `cjk_chars` for the unigram field."""
    return " ".join(cjk_chars(text))
