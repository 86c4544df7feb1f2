import json

import numpy as np
import pytest

from search_api.retrieval import ranker
from search_api.retrieval.legs import LegResult
from search_api.retrieval.ranker_train import Fusion, Query, reranked, train

LEGS = {"keyword": LegResult(["a", "b", "c"], [9.0, 6.0, 3.0]), "semantic": LegResult(["c", "d"], [0.8, 0.6])}
POP = {"a": {"rating": 4.5, "rating_count": 100.0, "price": 20.0, "brand": "Acme", "bm25_title": 3.0},
       "c": {"rating": 3.0, "brand": "Other", "color": "Black"}}
COS = {"a": 0.3, "b": 0.2, "c": 0.8, "d": 0.6}


def write_model(path, *, features=ranker.FEATURES, coef=None, fmt=ranker.FORMAT):
    n = len(features)
    body = {"format": fmt, "features": list(features), "fingerprint": "f" * 64,
            "model": {"mean": [0.0] * n, "scale": [1.0] * n, "coef": coef or [0.0] * n, "intercept": 0.0}}
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_features_one_row_per_candidate_in_the_order_given():
    m = ranker.features("black acme thing", ["a", "c", "d"], LEGS, POP, COS)
    col = {name: m[:, i] for i, name in enumerate(ranker.FEATURES)}
    assert m.shape == (3, len(ranker.FEATURES))
    assert col["keyword_rank"].tolist() == [1, 3, ranker.ABSENT_RANK]
    assert col["semantic_found"].tolist() == [0, 1, 1]
    assert col["keyword_norm"].tolist() == [1.0, 0.0, 0.0]
    assert col["cosine"].tolist() == pytest.approx([0.3, 0.8, 0.6])  # every candidate, not just the leg's
    assert col["cosine_gap"].tolist() == pytest.approx([-0.5, 0.0, -0.2])
    assert col["brand_in_query"].tolist() == [1.0, 0.0, 0.0]
    assert col["color_in_query"].tolist() == [0.0, 1.0, 0.0]
    assert col["log_reviews"][0] == pytest.approx(np.log1p(100)) and col["has_price"].tolist() == [1, 0, 0]
    assert col["bm25_title"].tolist() == [3.0, 0.0, 0.0]


def test_load_refuses_missing_foreign_or_broken_files(tmp_path, caplog):
    assert ranker.load(None) is None
    assert ranker.load(tmp_path / "missing.json") is None
    assert ranker.load(write_model(tmp_path / "old.json", features=("keyword_score", "retired_feature"))) is None
    legs_only = ranker.load(write_model(tmp_path / "legs.json", features=ranker.LEG_FEATURES))
    assert legs_only is not None and not legs_only.needs_catalog
    assert ranker.load(write_model(tmp_path / "v0.json", fmt=0)) is None
    (tmp_path / "junk.json").write_text("{not json", encoding="utf-8")
    assert ranker.load(tmp_path / "junk.json") is None
    bad = write_model(tmp_path / "nan.json")
    body = json.loads(bad.read_text())
    body["model"]["coef"][0] = None
    bad.write_text(json.dumps(body))
    assert ranker.load(bad) is None
    assert "using fused order" in caplog.text
    assert ranker.load(write_model(tmp_path / "ok.json")) is not None


def test_rerank_orders_the_head_by_the_model_and_keeps_the_tail(tmp_path):
    coef = [0.0] * len(ranker.FEATURES)
    coef[ranker.FEATURES.index("cosine")] = 1.0
    model = ranker.load(write_model(tmp_path / "m.json", coef=coef))
    fused = [("a", 0.5), ("b", 0.4), ("c", 0.3), ("d", 0.2)]
    out = ranker.rerank(model, "q", fused, LEGS, POP, COS, depth=3, explain=True)
    assert [d for d, _ in out.ranked] == ["c", "a", "b", "d"]  # d is past the depth: stays last
    scores = [s for _, s in out.ranked]
    assert scores == sorted(scores, reverse=True) and scores[0] == pytest.approx(1 / 61)
    assert set(out.scores) == {"a", "b", "c"}
    assert next(iter(out.contributions["c"])) == "cosine"
    assert out.contributions["c"]["cosine"] == pytest.approx(0.8)


def test_training_round_trips_through_the_model_file(tmp_path):
    rng = np.random.default_rng(0)
    queries = []
    for i in range(12):
        ids = [f"{i}-{j}" for j in range(8)]
        kw = sorted(rng.uniform(1, 10, 8).tolist(), reverse=True)
        legs = {"keyword": LegResult(ids, kw), "semantic": LegResult(ids[::-1], sorted(rng.uniform(0, 1, 8), reverse=True))}
        cos = {d: float(rng.uniform(0, 1)) for d in ids}
        ratings = {d: 3 if cos[d] > 0.5 else 0 for d in ids}  # relevance follows the cosine
        queries.append(Query(f"q{i}", ratings, legs, {}, cos))
    fusion = Fusion("rrf", 0.5)
    model = train(queries, fusion, depth=8)
    assert model.features == ranker.LEG_FEATURES
    ranker.save(tmp_path / "m.json", features=model.features, mean=model.mean.tolist(), scale=model.scale.tolist(), coef=model.coef.tolist(),
                intercept=model.intercept, fingerprint="x", meta={"fusion": "rrf"})
    loaded = ranker.load(tmp_path / "m.json")
    assert loaded is not None and loaded.meta["fusion"] == "rrf"
    q = queries[0]
    head = fusion.order(q)
    matrix = ranker.features(q.query, head, q.legs, q.pop, q.cosine)
    assert loaded.score(matrix) == pytest.approx(model.predict(matrix))
    top = reranked(model, q, fusion, 8)[0]
    assert q.ratings[top] == 3


def test_a_model_is_refused_under_another_fusion_than_it_was_trained_over(tmp_path, caplog):
    path = write_model(tmp_path / "rrf.json")
    body = json.loads(path.read_text())
    path.write_text(json.dumps({**body, "fusion": "rrf", "semantic_weight": 0.5}))
    loaded = ranker.load(path, ("rrf", 0.5))
    assert loaded is not None and loaded.fusion == ("rrf", 0.5)
    assert loaded.trained_for("rrf", 0.5) and not loaded.trained_for("linear", 0.5)
    assert not loaded.trained_for("rrf", 0.2)
    assert ranker.load(path, ("linear", 0.2)) is None
    assert "trained over fusion" in caplog.text
    assert ranker.load(write_model(tmp_path / "unrecorded.json"), ("linear", 0.2)) is not None  # older files


def test_the_shipped_model_loads_for_the_default_fusion():
    from search_api.core.settings import SHIPPED_RANKER, ApiSettings

    defaults = ApiSettings()
    shipped = ranker.load(SHIPPED_RANKER, (defaults.fusion, defaults.semantic_weight))
    assert shipped is not None and shipped.features == ranker.LEG_FEATURES and not shipped.needs_catalog
    assert shipped.meta["cv"]["+ ranker (setting)"]["ndcg10"] > shipped.meta["cv"]["fusion (setting)"]["ndcg10"]
