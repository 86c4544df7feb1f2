"""Shoppers for the sample marketplace: a query, a viewing history and a hidden preference.

Written by `indexer sample --personas N` beside the catalog, for bench/personalisation.py. Same
seed and size → the same personas. Three kinds:
- `category`: searches a family's generic query ("pillow", "耳机") and prefers one leaf of it;
- `brand`: searches a leaf's product noun and prefers one brand selling in that leaf;
- `unrelated`: viewed products of another family only; its search must not change category mix.
Histories are drawn from the preferred products (or the unrelated family), with actions mostly
views and ages up to a week (`age_hours`, so a reader can place them relative to its own clock).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from indexer.sample.data import LEAVES

FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pillows": (("抱枕", "枕头", "孕妇枕", "汽车头枕", "U型枕"), ("pillow", "抱枕", "枕头")),
    "earphones": (("蓝牙耳机", "头戴式耳机"), ("耳机", "earphones")),
    "skincare": (("面霜", "精华液", "面膜", "防晒霜", "洗面奶"), ("护肤", "skin care")),
    "snacks": (("坚果", "肉干", "饼干", "辣条"), ("零食", "snacks")),
    "phone accessories": (("充电宝", "手机壳", "数据线"), ("手机配件", "phone accessories")),
    "drinks": (("茶叶", "咖啡"), ("饮料", "tea and coffee")),
    "kitchen appliances": (("电饭煲", "空气炸锅"), ("厨房电器", "kitchen appliances")),
    "pet food": (("猫粮", "狗粮"), ("宠物", "pet food")),
    "clothes": (("连衣裙", "卫衣", "羽绒服", "牛仔裤"), ("服饰", "clothes")),
}
"""Leaf categories that answer the same generic query (and the queries); a result outside the
query's family is an unrelated category."""

ACTIONS = (("view", 0.6), ("click", 0.25), ("add_to_cart", 0.1), ("order", 0.05))
HISTORY_EVENTS = (15, 30)
MAX_AGE_HOURS = 7 * 24
MIN_BRAND_PRODUCTS = 15
"""A brand preference needs enough of the brand's products in the leaf to fill a top 10."""


@dataclass(frozen=True)
class Item:
    """What persona generation needs of a product row."""

    id: str
    leaf: str
    brand: str
    on_sale: bool


def item_of(row: dict[str, Any]) -> Item:
    """Summarise a generated product row."""
    return Item(row["id"], row["category"][-1], row["brand"], row["status"] == "on_sale")


def _family_of(leaf: str) -> str | None:
    return next((name for name, (leaves, _) in FAMILIES.items() if leaf in leaves), None)


def _history(rng: random.Random, pool: list[Item]) -> list[dict[str, Any]]:
    n = min(len(pool), rng.randint(*HISTORY_EVENTS))
    names, weights = zip(*ACTIONS, strict=True)
    return [{"product_id": item.id, "action": rng.choices(names, weights)[0],
             "age_hours": round(rng.uniform(0, MAX_AGE_HOURS), 2)} for item in rng.sample(pool, n)]


def personas(items: Iterable[Item], count: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """`count` personas: 40 % category, 40 % brand, 20 % unrelated (rounded)."""
    rng = random.Random(seed * 7919 + count)
    by_leaf: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        if item.on_sale:
            by_leaf[item.leaf].append(item)
    nouns = {path[-1]: [zh for zh, _ in n] + [en for _, en in n] for path, _en, n, _a, _p in LEAVES}
    families = [f for f, (leaves, _) in FAMILIES.items() if all(by_leaf.get(leaf) for leaf in leaves)]
    out: list[dict[str, Any]] = []
    kinds = ["category", "brand", "category", "brand", "unrelated"]
    for number in range(count):
        kind = kinds[number % len(kinds)]
        family = rng.choice(families)
        leaves, queries = FAMILIES[family]
        persona: dict[str, Any] = {"id": f"persona-{number + 1:03d}", "kind": kind, "family": family,
                                   "relevant_leaves": list(leaves)}
        if kind == "category":
            leaf = rng.choice(leaves)
            persona.update(query=rng.choice(queries), preferred={"leaf": leaf},
                           history=_history(rng, by_leaf[leaf]))
        elif kind == "brand":
            leaf = rng.choice(leaves)
            brands: dict[str, list[Item]] = defaultdict(list)
            for item in by_leaf[leaf]:
                brands[item.brand].append(item)
            stocked = sorted(b for b, its in brands.items() if len(its) >= MIN_BRAND_PRODUCTS) or \
                sorted(brands, key=lambda b: -len(brands[b]))[:1]
            brand = rng.choice(stocked)
            persona.update(query=rng.choice(nouns[leaf][:1] + nouns[leaf][len(nouns[leaf]) // 2:][:1]),
                           relevant_leaves=[leaf], preferred={"leaf": leaf, "brand": brand},
                           history=_history(rng, brands[brand]))
        else:
            other = rng.choice([f for f in families if f != family])
            pool = [i for leaf in FAMILIES[other][0] for i in by_leaf[leaf]]
            persona.update(query=rng.choice(queries), preferred=None, viewed_family=other,
                           history=_history(rng, pool))
        out.append(persona)
    return out


def is_preferred(result: dict[str, Any], preferred: dict[str, str] | None) -> bool:
    """Whether a search result (with `category` and `brand`) is what the persona prefers."""
    if not preferred:
        return False
    category = result.get("category") or [None]
    brand = result.get("brand")
    return category[-1] == preferred["leaf"] and preferred.get("brand", brand) == brand


def family_of_result(result: dict[str, Any]) -> str | None:
    """The family of a result's leaf category (None: a leaf in no family)."""
    category = result.get("category") or [None]
    return _family_of(category[-1]) if category[-1] else None
