"""Profiles and personal scoring, checked against numbers worked out by hand."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from indexer.core.errors import ConfigError
from search_api.core.settings import ApiSettings
from search_api.personal.events import Event
from search_api.personal.personalize import bend, boosted, keyword_factor, keyword_functions, rerank_neighbours
from search_api.personal.profile import ItemInfo, build, event_weight

NOW = datetime(2026, 11, 25, tzinfo=UTC)
WEIGHTS = dict(ApiSettings().action_weights)


def ev(pid, action="view", hours=0.0):
    return Event("u", pid, action, "feed", NOW - timedelta(hours=hours))


def unit(*xs):
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_event_weight_orders_actions_and_halves_per_half_life():
    assert event_weight("order", 0, weights=WEIGHTS, half_life_s=3600) > event_weight(
        "add_to_cart", 0, weights=WEIGHTS, half_life_s=3600) > event_weight(
        "click", 0, weights=WEIGHTS, half_life_s=3600) > event_weight("view", 0, weights=WEIGHTS, half_life_s=3600)
    assert event_weight("click", 7200, weights=WEIGHTS, half_life_s=3600) == pytest.approx(2.0 / 4)


def test_profile_centroid_and_shares():
    items = {"a": ItemInfo("B1", "枕头", unit(1, 0)), "b": ItemInfo("B2", "抱枕", unit(0, 1))}
    # a: one order now (8); b: one view now (1) and one view a half-life ago (0.5)
    profile = build([ev("a", "order"), ev("b"), ev("b", hours=72), ev("gone")], items, now=NOW,
                    weights=WEIGHTS, half_life_hours=72)
    assert profile.known == 3 and profile.events == 4 and not profile.empty
    assert profile.brands == (("B1", pytest.approx(8 / 9.5)), ("B2", pytest.approx(1.5 / 9.5)))
    assert dict(profile.categories)["抱枕"] == pytest.approx(1.5 / 9.5)
    assert np.allclose(profile.vector, unit(8, 1.5), atol=1e-6)
    assert profile.last_event == NOW


def test_only_unknown_products_make_an_empty_profile():
    assert build([ev("gone")], {}, now=NOW, weights=WEIGHTS, half_life_hours=1).empty


def test_bend_is_the_normalised_mix():
    q, u = unit(1, 0), unit(0, 1)
    assert np.allclose(bend(q, u, 0.25), unit(0.75, 0.25))
    assert np.allclose(bend(q, u, 0.0), q)


def test_keyword_boosts_are_bounded_and_explained():
    settings = ApiSettings(personal_brand_boost=0.5, personal_category_boost=0.5, personal_max_boost=1.3)
    items = {"a": ItemInfo("B1", "枕头", None)}
    profile = build([ev("a")], items, now=NOW, weights=WEIGHTS, half_life_hours=1)
    functions = keyword_functions(profile, settings)
    assert functions == [{"filter": {"term": {"brand": "B1"}}, "weight": 1.5},
                         {"filter": {"term": {"category_leaf": "枕头"}}, "weight": 1.5}]
    wrapped = boosted({"match_all": {}}, functions, 1.3)["function_score"]
    assert wrapped["max_boost"] == 1.3 and wrapped["score_mode"] == "multiply"
    factor, reasons = keyword_factor("B1", "枕头", profile, settings)
    assert factor == 1.3 and len(reasons) == 2  # 1.5 × 1.5 capped
    assert keyword_factor("B9", "面霜", profile, settings) == (1.0, [])


def test_rerank_keeps_only_neighbours_near_the_query():
    q, u = unit(1, 0, 0), unit(0, 1, 0)
    ids = ["near-q", "near-both", "near-u"]
    matrix = np.vstack([unit(1, 0, 0), unit(1, 0.6, 0), unit(0.2, 1, 0)])
    ranked, _ = rerank_neighbours(ids, matrix, q, u, alpha=0.5, ratio=0.7, size=10)
    # gate: mean cos of the best hits is (1 + 0.857 + 0.196)/3 = 0.684, × 0.7 = 0.479 → near-u is out
    assert ranked == ["near-both", "near-q"]


def test_action_weight_overrides_from_env():
    weights = dict(ApiSettings.from_env({"STORESEARCH_ACTION_WEIGHTS": "video_view=3, order=10"}).action_weights)
    assert weights["video_view"] == 3 and weights["order"] == 10 and weights["view"] == 1
    with pytest.raises(ConfigError, match="unknown action"):
        ApiSettings.from_env({"STORESEARCH_ACTION_WEIGHTS": "like=1"})
