"""A semantic leg for Chinese: USE multilingual v3 on a catalog mixing Chinese- and English-titled products.

Real model (the packaged weights), real Elasticsearch, the real build and search path. The same
catalog built with the English MiniLM shows what an English-only configuration does instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from indexer.build.pipeline import BuildOptions, build
from indexer.core.config import MULTILINGUAL_MODEL, Settings
from indexer.embedding.encoders import load_embedder
from indexer.sample import generate
from search_api.personal.events import parse_history
from search_api.retrieval import hybrid
from search_api.retrieval.params import parse_search
from search_api.retrieval.runtime import Runtime
from tests.conftest import drop_prefix, fresh_settings

pytestmark = pytest.mark.integration

SIZE = 600


def mixed_rows() -> list[dict[str, Any]]:
    """Even products titled in Chinese only, odd ones in English only (brand and category stay Chinese)."""
    _, rows = generate.products(SIZE, seed=11)
    out = []
    for n, row in enumerate(rows):
        title_en = row.pop("title_en")
        if n % 2:
            row["title"] = title_en
        out.append(row)
    return out


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    rows = mixed_rows()
    path = tmp_path_factory.mktemp("mixed") / "products.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path, rows


def built(es, es_url, root: Path, embedder, products: Path, **changes: Any) -> tuple[Runtime, Any]:
    settings = fresh_settings(es_url, root).with_(**changes)
    report = build(settings, es, embedder, BuildOptions(products=(products,), progress=False))
    return Runtime(settings, embedder=embedder, es=es), report


@pytest.fixture(scope="module")
def use_rt(es, es_url, catalog, tmp_path_factory) -> Iterator[tuple[Runtime, Any]]:
    settings = Settings(model=MULTILINGUAL_MODEL)
    rt, report = built(es, es_url, tmp_path_factory.mktemp("use"), load_embedder(settings, threads=1),
                       catalog[0], model=MULTILINGUAL_MODEL)
    yield rt, report
    drop_prefix(es, rt.settings.prefix)


@pytest.fixture(scope="module")
def english_rt(es, es_url, catalog, model, tmp_path_factory) -> Iterator[tuple[Runtime, Any]]:
    rt, report = built(es, es_url, tmp_path_factory.mktemp("minilm"), model, catalog[0])
    yield rt, report
    drop_prefix(es, rt.settings.prefix)


def search(rt: Runtime, **args: Any) -> dict[str, Any]:
    return hybrid.search(rt, parse_search(args))


def chinese_titled(r: dict[str, Any]) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in r["title"])


def test_every_product_of_a_mixed_catalog_gets_a_vector(use_rt, english_rt):
    (_, use), (_, minilm) = use_rt, english_rt
    assert use.vectors == use.accepted == SIZE
    # MiniLM reads the English-titled half, and of the rest only Latin fragments (U型枕, ins风)
    assert SIZE // 2 <= minilm.vectors < SIZE


def test_a_chinese_query_gets_a_semantic_leg_that_finds_its_products(use_rt):
    rt, _ = use_rt
    out = search(rt, q="飞机枕", size=10)
    assert out["meta"]["legs"] == {"semantic": "ok", "keyword": "ok"} and not out["meta"]["degraded"]
    semantic = search(rt, q="飞机枕", mode="semantic", size=10)["results"]
    leaves = [r["category"][-1] for r in semantic]
    assert leaves.count("U型枕") >= 8, [r["title"] for r in semantic]
    assert any(chinese_titled(r) for r in semantic) and not all(chinese_titled(r) for r in semantic)


def test_an_english_query_finds_chinese_titled_products(use_rt):
    rt, _ = use_rt
    results = search(rt, q="maternity pillow", mode="semantic", size=10)["results"]
    zh = [r for r in results if chinese_titled(r)]
    assert sum(r["category"][-1] == "孕妇枕" for r in results) >= 7, [r["title"] for r in results]
    assert any(r["category"][-1] == "孕妇枕" for r in zh), [r["title"] for r in results]


def test_an_english_only_model_skips_chinese_queries_and_says_why(english_rt):
    rt, _ = english_rt
    out = search(rt, q="飞机枕", size=10)
    assert out["meta"]["legs"]["semantic"] == "skipped: model does not cover zh"
    assert out["meta"]["legs"]["keyword"] == "ok" and out["results"]
    assert search(rt, q="airplane pillow", size=10)["meta"]["legs"]["semantic"] == "ok"


def test_a_profile_of_chinese_titled_products_personalises_a_chinese_query(use_rt, catalog):
    rt, _ = use_rt
    viewed = [r["id"] for n, r in enumerate(catalog[1]) if n % 2 == 0 and r["category"][-1] == "孕妇枕"][:6]
    now = datetime.now(UTC)
    history = [{"product_id": pid, "action": "click", "ts": (now - timedelta(hours=i)).isoformat()}
               for i, pid in enumerate(viewed)]
    plain = search(rt, q="抱枕", size=10)
    events = parse_history(history, now=now, settings=rt.settings)
    out = hybrid.search(rt, parse_search({"q": "抱枕", "size": 10, "explain": True}, history=events))
    assert out["meta"]["personalised"] and out["meta"]["legs"]["semantic"] == "ok (personalised)"
    assert out["meta"]["profile"]["top_categories"][0]["category"] == "孕妇枕"
    lift = [r["category"][-1] for r in out["results"]].count("孕妇枕")
    before = [r["category"][-1] for r in plain["results"]].count("孕妇枕")
    assert lift > before, out["results"]
