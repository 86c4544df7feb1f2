"""Fusion per request and the second-stage ranker through the real search path (ES + FAISS + model)."""

from __future__ import annotations

import json

import pytest

from search_api.retrieval import hybrid, ranker
from search_api.retrieval.params import parse_search
from search_api.retrieval.runtime import Runtime

pytestmark = pytest.mark.integration


def _model(path, coef_of: dict[str, float], features=ranker.LEG_FEATURES):
    n = len(features)
    path.write_text(json.dumps({
        "format": ranker.FORMAT, "features": list(features), "fingerprint": "0" * 64,
        "model": {"mean": [0.0] * n, "scale": [1.0] * n,
                  "coef": [coef_of.get(f, 0.0) for f in features], "intercept": 0.0}}), encoding="utf-8")
    return path


def test_fusion_is_chosen_per_request(sample_index, model, es):
    rt = Runtime(sample_index.settings.with_(ranker_model=None), embedder=model, es=es)
    linear = hybrid.search(rt, parse_search({"q": "memory foam pillow", "fusion": "linear", "size": 20}))
    rrf = hybrid.search(rt, parse_search({"q": "memory foam pillow", "fusion": "rrf", "semantic_weight": "2",
                                          "size": 20}))
    assert linear["meta"]["fusion"] == "linear" and rrf["meta"]["fusion"] == "rrf"
    assert linear["meta"]["ranker"] == "off"
    assert [r["id"] for r in linear["results"]] != [r["id"] for r in rrf["results"]]
    assert hybrid.search(rt, parse_search({"q": "pillow", "mode": "keyword"}))["meta"]["fusion"] is None


def test_second_stage_reorders_by_the_model_and_explains(sample_index, model, es, tmp_path):
    # a model that only reads the cosine: the answer must come out in cosine order
    path = _model(tmp_path / "cos.json", {"cosine": 1.0})
    rt = Runtime(sample_index.settings.with_(ranker_model=path), embedder=model, es=es)
    out = hybrid.search(rt, parse_search({"q": "memory foam pillow", "size": 10, "explain": "true"}))
    assert out["meta"]["ranker"] == "ok"
    scores = [r["explain"]["ranker"]["score"] for r in out["results"]]
    assert scores == sorted(scores, reverse=True)
    assert all(next(iter(r["explain"]["ranker"]["top_features"])) == "cosine" for r in out["results"])
    assert hybrid.search(rt, parse_search({"q": "pillow", "sort": "price_asc"}))["meta"]["ranker"].startswith(
        "skipped")


def test_a_request_fusing_otherwise_keeps_its_fused_order(sample_index, model, es, tmp_path):
    path = _model(tmp_path / "cos.json", {"cosine": 1.0})
    path.write_text(json.dumps({**json.loads(path.read_text()), "fusion": "rrf",
                                "semantic_weight": sample_index.settings.semantic_weight}))
    rt = Runtime(sample_index.settings.with_(ranker_model=path), embedder=model, es=es)
    plain = Runtime(sample_index.settings.with_(ranker_model=None), embedder=model, es=es)
    args = {"q": "memory foam pillow", "size": 10, "fusion": "linear"}
    out = hybrid.search(rt, parse_search(args))
    assert out["meta"]["ranker"] == "skipped: another fusion"
    assert [r["id"] for r in out["results"]] == [r["id"] for r in hybrid.search(plain, parse_search(args))["results"]]
    assert hybrid.search(rt, parse_search({"q": "memory foam pillow"}))["meta"]["ranker"] == "ok"


def test_the_shipped_model_is_chosen_by_name_and_reorders(sample_index, model, es):
    from search_api.core.settings import SHIPPED_RANKER, ApiSettings

    assert ApiSettings.from_env({}).ranker_model is None
    assert ApiSettings.from_env({"STORESEARCH_RANKER_MODEL": "off"}).ranker_model is None
    assert ApiSettings.from_env({"STORESEARCH_RANKER_MODEL": "shipped"}).ranker_model == SHIPPED_RANKER
    rt = Runtime(sample_index.settings.with_(ranker_model=SHIPPED_RANKER), embedder=model, es=es)
    assert rt.ranker is not None and rt.ranker.path.name == "ranker-esci.json"
    args = {"q": "memory foam pillow", "size": 20}
    out = hybrid.search(rt, parse_search(args))
    off = hybrid.search(Runtime(sample_index.settings, embedder=model, es=es), parse_search(args))
    assert out["meta"]["ranker"] == "ok" and off["meta"]["ranker"] == "off"
    assert {r["id"] for r in out["results"]} <= {r["id"] for r in hybrid.search(rt, parse_search(
        {**args, "size": 100}))["results"]}


def test_a_model_needing_catalog_features_reads_them(sample_index, model, es, tmp_path):
    path = _model(tmp_path / "all.json", {"bm25_title": 1.0, "cosine": 0.1}, features=ranker.FEATURES)
    rt = Runtime(sample_index.settings.with_(ranker_model=path), embedder=model, es=es)
    out = hybrid.search(rt, parse_search({"q": "memory foam pillow", "size": 5, "explain": "true"}))
    assert out["meta"]["ranker"] == "ok"
    assert any("bm25_title" in r["explain"]["ranker"]["top_features"] for r in out["results"])


def test_a_foreign_model_file_leaves_the_fused_order(sample_index, model, es, tmp_path):
    path = _model(tmp_path / "old.json", {}, features=("keyword_score", "gone"))
    rt = Runtime(sample_index.settings.with_(ranker_model=path), embedder=model, es=es)
    plain = Runtime(sample_index.settings.with_(ranker_model=None), embedder=model, es=es)
    args = {"q": "memory foam pillow", "size": 10}
    out = hybrid.search(rt, parse_search(args))
    assert out["meta"]["ranker"] == "off"
    assert [r["id"] for r in out["results"]] == [r["id"] for r in hybrid.search(plain, parse_search(args))["results"]]


def test_a_personalised_search_is_reordered_on_its_personalised_legs(sample_index, model, es, tmp_path):
    from search_api.http.app import create_app

    rows = [json.loads(line) for line in sample_index.products.read_text(encoding="utf-8").splitlines()]
    seen = [r["id"] for r in rows if r["category"][-1] == "孕妇枕" and r["status"] == "on_sale"][:10]
    path = _model(tmp_path / "cos.json", {"cosine": 1.0})
    client = create_app(runtime=Runtime(sample_index.settings.with_(ranker_model=path), embedder=model,
                                        es=es)).test_client()
    body = {"q": "pillow", "size": 10, "explain": True, "history": [{"product_id": pid} for pid in seen]}
    out = client.post("/search", json=body).get_json()
    assert out["meta"]["personalised"] is True and out["meta"]["ranker"] == "ok"
    assert all("ranker" in r["explain"] for r in out["results"])
    # a query the model cannot read: the taste comes through the profile leg, which no feature sees
    chinese = client.post("/search", json={**body, "q": "抱枕"}).get_json()
    assert chinese["meta"]["legs"].get("profile") == "ok" and chinese["meta"]["ranker"] == "skipped: profile leg"
