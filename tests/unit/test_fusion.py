import pytest

from search_api.retrieval.fusion import rrf


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
