import pytest

from search_api.retrieval.fusion import fuse, rrf, tie_break
from search_api.retrieval.legs import LegResult
from search_api.retrieval.params import Mode


def test_rrf_matches_hand_computed_scores():
    fused = dict(rrf({"keyword": ["a", "b", "c"], "semantic": ["b", "d"]}, k=60))
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["c"] == pytest.approx(1 / 63)
    assert fused["d"] == pytest.approx(1 / 62)


def test_rrf_orders_by_score_then_first_seen():
    order = [doc for doc, _ in rrf({"keyword": ["a", "b"], "semantic": ["b", "a"]}, k=60)]
    assert order == ["a", "b"]  # equal scores: first-seen order is kept
    order = [doc for doc, _ in rrf({"keyword": ["a", "b", "c"], "semantic": ["b"]})]
    assert order[0] == "b"


def test_rrf_weights_and_duplicates():
    fused = dict(rrf({"keyword": ["a", "a", "b"]}, k=10, weights={"keyword": 2.0}))
    assert fused == {"a": pytest.approx(2 / 11), "b": pytest.approx(2 / 12)}


def test_rrf_empty():
    assert rrf({}) == []
    assert rrf({"keyword": []}) == []


def test_fuse_uses_rrf_with_weights_only_when_hybrid_has_several_legs():
    results = {"semantic": LegResult(["s", "both"], [0.9, 0.8]), "keyword": LegResult(["both", "k"], [12.0, 11.0])}
    weights = {"keyword": 1.0, "semantic": 0.5}
    fused = fuse(results, Mode.HYBRID, k=60, weights=weights)
    assert fused == rrf({"semantic": ["s", "both"], "keyword": ["both", "k"]}, k=60, weights=weights)
    assert fused[0] == ("both", pytest.approx(0.5 / 62 + 1 / 61))
    # one leg, or a single-leg mode: that leg's own ids and native scores, in its order
    assert fuse({"keyword": results["keyword"]}, Mode.HYBRID, k=60, weights=weights) == [("both", 12.0), ("k", 11.0)]
    assert fuse(results, Mode.SEMANTIC, k=60, weights=weights) == [("s", 0.9), ("both", 0.8)]
    assert fuse({}, Mode.HYBRID, k=60, weights=weights) == []


def test_fuse_breaks_rrf_ties_by_the_legs_order():
    results = {"semantic": LegResult(["s"], [1.0]), "keyword": LegResult(["k"], [1.0])}
    assert [d for d, _ in fuse(results, Mode.HYBRID, k=60, weights={})] == ["s", "k"]


def test_tie_break_reorders_near_ties_only():
    ranked = [("a", 1 / 61), ("b", 1 / 61 - 1e-7), ("c", 1 / 62)]
    bent = tie_break(ranked, {"b": 1.0, "c": 1.0, "a": 0.0}, 1e-5)
    assert [d for d, _ in bent] == ["b", "a", "c"]  # b overtakes a near-tie; c stays behind a rank gap
    assert dict(bent)["b"] == pytest.approx(1 / 61 - 1e-7 + 1e-5)


def test_tie_break_keeps_fused_order_on_equal_scores_and_ignores_missing_affinity():
    ranked = [("x", 0.5), ("y", 0.5), ("z", 0.1)]
    assert tie_break(ranked, {}, 1e-5) == ranked
    bent = tie_break(ranked, {"y": 0.3, "x": 0.3}, 1e-5)
    assert [d for d, _ in bent] == ["x", "y", "z"]
    assert [s for _, s in bent] == pytest.approx([0.5 + 3e-6, 0.5 + 3e-6, 0.1])


def test_minmax_maps_each_leg_onto_unit_range():
    from search_api.retrieval.fusion import minmax

    assert minmax([12.0, 8.0, 4.0]) == [1.0, 0.5, 0.0]
    assert minmax([3.0, 3.0]) == [1.0, 1.0]  # nothing to tell apart: all full marks
    assert minmax([]) == []


def test_linear_fusion_weights_normalised_scores_and_keeps_margins():
    from search_api.retrieval.fusion import linear

    results = {"keyword": LegResult(["a", "b", "c"], [10.0, 9.0, 0.0]),
               "semantic": LegResult(["c", "a"], [0.9, 0.5])}
    fused = dict(linear(results, weights={"keyword": 1.0, "semantic": 0.5}))
    assert fused == {"a": pytest.approx(1.0 + 0.0), "b": pytest.approx(0.9), "c": pytest.approx(0.0 + 0.5)}
    # RRF sees only ranks: b (2nd in one leg) would tie with nothing and c gets two votes
    assert [d for d, _ in linear(results, weights={"keyword": 1.0, "semantic": 0.5})] == ["a", "b", "c"]
    assert [d for d, _ in linear(results, weights={"keyword": 1.0, "semantic": 5.0})][0] == "c"


def test_fuse_picks_the_requested_fusion_in_hybrid_mode_only():
    from search_api.retrieval.fusion import linear
    from search_api.retrieval.params import Fusion

    results = {"semantic": LegResult(["s", "both"], [0.9, 0.8]), "keyword": LegResult(["both", "k"], [12.0, 11.0])}
    weights = {"keyword": 1.0, "semantic": 0.5}
    assert fuse(results, Mode.HYBRID, k=60, weights=weights, fusion=Fusion.LINEAR) == linear(results, weights=weights)
    assert fuse(results, Mode.HYBRID, k=60, weights=weights, fusion=Fusion.RRF) == fuse(
        results, Mode.HYBRID, k=60, weights=weights)
    assert fuse({"keyword": results["keyword"]}, Mode.HYBRID, k=60, weights=weights,
                fusion=Fusion.LINEAR) == [("both", 12.0), ("k", 11.0)]
