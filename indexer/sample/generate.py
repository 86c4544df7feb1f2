"""A deterministic sample marketplace: products with Chinese and English titles, brands, keywords.

Same seed and size → byte-identical files, so tests and benchmarks can name expected products.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from indexer.sample.data import ADJECTIVES, BRAND_SYLLABLES, LEAVES, SUFFIXES, Leaf

MIN_BRANDS = 320
BASE_TIME = datetime(2026, 11, 1, tzinfo=UTC)
"""Fixed clock for `updated_at`, so output does not depend on when it is generated."""
ACTIVE_WINDOW = ("2026-01-01T00:00:00+00:00", "2099-12-31T00:00:00+00:00")
EXPIRED_WINDOW = ("2020-01-01T00:00:00+00:00", "2021-01-01T00:00:00+00:00")
STATUS_WEIGHTS = {"on_sale": 96, "sold_out": 3, "off_shelf": 1}


@dataclass(frozen=True)
class Brand:
    """A sample brand and the leaf categories it sells in."""

    id: str
    zh: str
    en: str
    leaves: tuple[int, ...]


def make_brands(rng: random.Random, count: int = MIN_BRANDS) -> list[Brand]:
    """Two-syllable brand names (zh + pinyin), each selling in one or two leaf categories."""
    pairs = [(a, b) for a in BRAND_SYLLABLES for b in BRAND_SYLLABLES if a != b]
    rng.shuffle(pairs)
    brands = []
    for i, ((zh1, en1), (zh2, en2)) in enumerate(pairs[:count]):
        primary = i % len(LEAVES)
        leaves = (primary,) if rng.random() < 0.7 else (primary, rng.randrange(len(LEAVES)))
        name_en = (en1 + en2).capitalize()
        brands.append(Brand(f"B{i + 1:04d}", zh1 + zh2, name_en, tuple(dict.fromkeys(leaves))))
    return brands


def _product(rng: random.Random, number: int, leaf_index: int, leaf: Leaf, brand: Brand) -> dict[str, Any]:
    path, _leaf_en, nouns, attributes, (low, high) = leaf
    noun_zh, noun_en = rng.choice(nouns)
    adj_zh, adj_en = rng.choice(ADJECTIVES)
    suffix_zh, suffix_en = rng.choice(SUFFIXES)
    attrs_zh: dict[str, str] = {}
    attrs_en: dict[str, str] = {}
    for name, values in attributes.items():
        value_zh, value_en = rng.choice(values)
        attrs_zh[name], attrs_en[name] = value_zh, value_en
    lead_zh, lead_en = next(iter(zip(attrs_zh.values(), attrs_en.values(), strict=True)), ("", ""))
    title_zh = f"{brand.zh}{adj_zh}{lead_zh}{noun_zh} {suffix_zh}"
    title_en = " ".join(x for x in (brand.en, adj_en, lead_en, noun_en, suffix_en) if x)
    price = round(low * (high / low) ** rng.random(), 1)  # log-uniform, like real price lists
    sales = int(rng.paretovariate(1.2) * 20) - 20
    updated = BASE_TIME - timedelta(minutes=rng.randrange(90 * 24 * 60))
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    return {
        "id": f"P{number:07d}",
        "title": title_zh,
        "title_en": title_en,
        "brand": brand.zh,
        "category": list(path),
        "attributes": attrs_zh,
        "price": price,
        "sales": max(sales, 0),
        "rating": round(rng.uniform(3.6, 5.0), 1),
        "shop": f"{brand.zh}官方旗舰店",
        "status": status,
        "updated_at": updated.isoformat(),
        "extra": {"brand_en": brand.en, "leaf": leaf_index},
    }


def products(size: int, *, seed: int = 7) -> tuple[list[Brand], Iterator[dict[str, Any]]]:
    """The brands and a generator of `size` product rows."""
    rng = random.Random(seed)
    brands = make_brands(rng)
    by_leaf: dict[int, list[Brand]] = {}
    for brand in brands:
        for leaf in brand.leaves:
            by_leaf.setdefault(leaf, []).append(brand)

    def rows() -> Iterator[dict[str, Any]]:
        for number in range(1, size + 1):
            leaf_index = rng.randrange(len(LEAVES))
            brand = rng.choice(by_leaf[leaf_index])
            yield _product(rng, number, leaf_index, LEAVES[leaf_index], brand)

    return brands, rows()


def brand_keywords(brands: list[Brand], leaf_counts: Counter[tuple[int, str]]) -> list[dict[str, Any]]:
    """Each brand owns its name; each leaf's main noun is owned by that leaf's best-stocked brand.

    One generic keyword (the second noun of the first leaf, 靠枕) has an expired window, so the
    sample always contains an inactive keyword.
    """
    rows: list[dict[str, Any]] = []
    for brand in brands:
        rows.append({"keyword": brand.zh, "aliases": [brand.en], "brand_id": brand.id, "brand": brand.zh,
                     "priority": 0, "match": "exact",
                     "landing": {"categories": [LEAVES[i][0][-1] for i in brand.leaves]}})
    by_id = {b.id: b for b in brands}
    for leaf_index, (path, _en, nouns, _attrs, _price) in enumerate(LEAVES):
        stocked = [(n, bid) for (li, bid), n in leaf_counts.items() if li == leaf_index]
        if not stocked:
            continue
        owner = by_id[max(stocked)[1]]
        for n, (noun_zh, noun_en) in enumerate(nouns[:2]):
            expired = leaf_index == 0 and n == 1
            start, end = EXPIRED_WINDOW if expired else ACTIVE_WINDOW
            rows.append({"keyword": noun_zh, "aliases": [noun_en], "brand_id": owner.id, "brand": owner.zh,
                         "priority": 10, "match": "contains", "active_from": start, "active_to": end,
                         "landing": {"categories": [path[-1]]}})
    return rows


def write(out_dir: Path, size: int, *, seed: int = 7, personas: int = 0) -> dict[str, Path]:
    """Write `products.jsonl`, `brand_keywords.jsonl` (and `personas.jsonl`); returns their paths."""
    from indexer.sample.personas import item_of
    from indexer.sample.personas import personas as make_personas

    out_dir.mkdir(parents=True, exist_ok=True)
    brands, rows = products(size, seed=seed)
    by_zh = {b.zh: b for b in brands}
    counts: Counter[tuple[int, str]] = Counter()
    items = []
    products_path = out_dir / "products.jsonl"
    with products_path.open("w", encoding="utf-8") as fh:
        for row in rows:
            counts[(row["extra"]["leaf"], by_zh[row["brand"]].id)] += 1
            if personas:
                items.append(item_of(row))
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    keywords_path = out_dir / "brand_keywords.jsonl"
    with keywords_path.open("w", encoding="utf-8") as fh:
        for kw in brand_keywords(brands, counts):
            fh.write(json.dumps(kw, ensure_ascii=False) + "\n")
    paths = {"products": products_path, "brand_keywords": keywords_path}
    if personas:
        paths["personas"] = out_dir / "personas.jsonl"
        with paths["personas"].open("w", encoding="utf-8") as fh:
            for persona in make_personas(items, personas, seed=seed):
                fh.write(json.dumps(persona, ensure_ascii=False) + "\n")
    return paths
