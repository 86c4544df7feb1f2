import math

import pytest

from search_api.retrieval.evaluation import ndcg_at, recall_at, reciprocal_rank


def test_ndcg_by_hand():
    ratings = {"a": 3, "b": 2, "c": 0}
    assert ndcg_at(["a", "b", "c"], ratings) == pytest.approx(1.0)
    dcg = 2 / math.log2(2) + 3 / math.log2(3)
    idcg = 3 / math.log2(2) + 2 / math.log2(3)
    assert ndcg_at(["b", "a"], ratings) == pytest.approx(dcg / idcg)
    assert ndcg_at(["x", "y"], ratings) == 0.0
    assert ndcg_at(["a"], {}) == 0.0


def test_recall_and_mrr():
    ratings = {"a": 3, "b": 1, "c": 0}
    assert recall_at(["c", "b", "z"], ratings) == 0.5
    assert reciprocal_rank(["c", "z", "a"], ratings) == pytest.approx(1 / 3)
    assert reciprocal_rank(["c"], ratings) == 0.0
