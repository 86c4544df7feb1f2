"""Elasticsearch documents of the index format: products and brand keywords.

The analysed `*_tokens` fields are what the keyword leg searches; the raw fields are what the API
returns. Query-side code analyses query text with the same `indexer.analysis` functions.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
import orjson

from indexer.catalog.models import BrandKeyword, Product
from indexer.text.analysis import analyzed, analyzed_cached, analyzed_cjk, normalize
from indexer.text.variants import pinyin_text, spelling_text

COLOR_ATTRIBUTES = ("颜色", "color", "colour")
"""Attribute names a catalog states a colour under when it has no `color` field (the sample does)."""

CATEGORY_PATH_SEPARATOR = " > "
"""Joins a category path's levels in `category_path`: the catalog's own `a > b > c` spelling."""

SUGGEST_WEIGHT_MAX = 1_000_000
"""Completion weights are ints; sales beyond this add nothing to the suggestion order."""

TOKENS_MAX_CHARS = 4000
"""Long descriptions add index size but little ranking signal beyond their opening."""

VECTOR_DECIMALS = 6
"""float32 holds ~7 significant digits; 6 decimals keep cosines exact to 1e-6 at half the JSON."""

DOCUMENT_FORMAT = 3
"""Bump whenever `product_doc` writes a product differently: a rebuild then rewrites every
document instead of reusing the live version's (see `indexer.reuse`)."""


def source_hash(product: Product) -> str:
    """A digest of everything the catalog says about a product.

    Equal digests (under one build fingerprint) mean equal documents, so a rebuild can keep an
    indexed document instead of writing it again.
    """
    raw = orjson.dumps(product, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.blake2b(raw, digest_size=12).hexdigest()


def all_titles(product: Product) -> list[str]:
    """The primary title then each extra-language title, without repeats."""
    titles = [product.title]
    titles += [t for t in product.titles.values() if t != product.title]
    return titles


def analysed_text(product: Product) -> dict[str, str]:
    """The costly analysed fields (jieba over free text): cached across builds by `analysis_cache`."""
    titles = " ".join(all_titles(product))
    return {
        "title_tokens": analyzed(titles),
        "title_cjk": analyzed_cjk(titles),
        "bullet_tokens": analyzed(" ".join(product.bullets)[:TOKENS_MAX_CHARS]),
        "description_tokens": analyzed((product.description or "")[:TOKENS_MAX_CHARS]),
        "pinyin_tokens": pinyin_text(titles),
        "spell_words": spelling_text(" ".join((titles, *product.bullets,
                                                (product.description or "")[:TOKENS_MAX_CHARS]))),
    }


def analysis_input(product: Product) -> str:
    """Everything `analysed_text` reads, as one string: the analysis cache's key material."""
    return "\x1f".join((*all_titles(product), "\x1e", *product.bullets, "\x1e", product.description or ""))


def product_doc(product: Product, vector: list[float] | np.ndarray | None, indexed_at: datetime,
                seq: int = 0, analysed: dict[str, str] | None = None) -> dict[str, Any]:
    """The ES document of a product (its `_id` is `product.id`), written by change number `seq`.

    `vector` may come pre-rounded as a list (builds round a whole batch at once); `analysed` is
    `analysed_text(product)` when the caller has it cached.
    """
    doc: dict[str, Any] = {
        "id": product.id,
        "title": product.title,
        "title_lang": product.title_lang,
        "titles": dict(product.titles),
        "title_en": product.title_en,
        "title_zh": product.title_zh,
        "brand": product.brand,
        "brand_tokens": analyzed_cached(product.brand or ""),
        "category": list(product.category),
        "category_leaf": product.category[-1] if product.category else None,
        "category_path": category_paths(product.category),
        "category_tokens": analyzed_cached(" ".join(product.category)),
        "color": facet_color(product),
        "color_tokens": analyzed_cached(product.color or ""),
        "attributes": dict(product.attributes),
        "attribute_tokens": analyzed_cached(" ".join(f"{k} {v}" for k, v in product.attributes.items())),
        "bullets": list(product.bullets),
        "description": product.description,
        "price": product.price,
        "sales": product.sales,
        "rating": product.rating,
        "rating_count": product.rating_count,
        "shop": product.shop,
        "status": product.status,
        "image": product.image,
        "updated_at": product.updated_at.isoformat() if product.updated_at else None,
        "indexed_at": indexed_at.isoformat(),
        "seq": seq,
        "source_hash": source_hash(product),
        "extra": dict(product.extra),
        "has_vector": vector is not None,
        "suggest": {
            "input": [t[:60] for t in all_titles(product)] + ([product.brand] if product.brand else []),
            "weight": min(product.sales or 0, SUGGEST_WEIGHT_MAX),
        },
    }
    doc.update(analysed if analysed is not None else analysed_text(product))
    labels = _labels(product)
    doc["pinyin_tokens"] = f"{doc['pinyin_tokens']} {_label_pinyin(labels)}".strip()
    doc["spell_words"] = f"{doc['spell_words']} {_label_spelling(labels)}".strip()
    if isinstance(vector, np.ndarray):
        doc["embedding"] = rounded(vector)
    elif vector is not None:
        doc["embedding"] = vector
    return doc


def facet_color(product: Product) -> str | None:
    """The colour shoppers filter and facet by: the `color` field, else a colour attribute.

    Only the keyword field reads the attribute; `color_tokens` and the embedded text keep the
    `color` field alone, so scoring and vectors do not change with it.
    """
    if product.color:
        return product.color
    attributes = {str(k).lower(): v for k, v in product.attributes.items()}
    found = next((attributes[name] for name in COLOR_ATTRIBUTES if attributes.get(name)), None)
    return str(found) if found is not None else None


def category_paths(category: tuple[str, ...] | list[str]) -> list[str]:
    """Every prefix of a category path (`a`, `a > b`, `a > b > c`): one facet bucket per tree node."""
    return [CATEGORY_PATH_SEPARATOR.join(category[:i]) for i in range(1, len(category) + 1)]


def _labels(product: Product) -> str:
    """Brand, category path and colour: short values shared by many products (cached per value)."""
    return " ".join(v for v in (product.brand, *product.category, product.color) if v)


@lru_cache(maxsize=50_000)
def _label_pinyin(labels: str) -> str:
    return pinyin_text(labels)


@lru_cache(maxsize=50_000)
def _label_spelling(labels: str) -> str:
    return spelling_text(labels)


def rounded(vectors: np.ndarray) -> list[Any]:
    """Vector(s) as JSON-ready lists at VECTOR_DECIMALS; one call for a whole batch is ~10x cheaper."""
    return np.round(vectors.astype(np.float64), VECTOR_DECIMALS).tolist()  # type: ignore[no-any-return]


def tombstone_doc(product_id: str, indexed_at: datetime, seq: int) -> dict[str, Any]:
    """What a deleted product leaves behind: hidden from every leg, and seen by catch-up replicas.

    A plain ES delete would leave nothing for a replica polling `seq > N` to find.
    """
    return {"id": product_id, "status": "deleted", "tombstone": True, "has_vector": False,
            "seq": seq, "indexed_at": indexed_at.isoformat(), "updated_at": indexed_at.isoformat()}


def brand_keyword_doc(kw: BrandKeyword, indexed_at: datetime) -> dict[str, Any]:
    """The ES document of a brand keyword (its `_id` is `kw.id`)."""
    return {
        "id": kw.id,
        "keyword": kw.keyword,
        "keyword_norm": normalize(kw.keyword),
        "keyword_tokens": analyzed(kw.keyword),
        "aliases": list(kw.aliases),
        "aliases_norm": [normalize(a) for a in kw.aliases],
        "aliases_tokens": [analyzed(a) for a in kw.aliases],
        "brand_id": kw.brand_id,
        "brand": kw.brand,
        "priority": kw.priority,
        "active_from": kw.active_from.isoformat() if kw.active_from else None,
        "active_to": kw.active_to.isoformat() if kw.active_to else None,
        "landing_products": list(kw.landing_products),
        "landing_categories": list(kw.landing_categories),
        "match": kw.match,
        "indexed_at": indexed_at.isoformat(),
    }
