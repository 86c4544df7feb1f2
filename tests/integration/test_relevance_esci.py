"""Relevance on real shopper queries (ESCI dev), through the normal build and search path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from indexer.build.pipeline import BuildOptions, build
from search_api.retrieval.evaluation import evaluate, load_judgments
from search_api.retrieval.runtime import Runtime
from tests.conftest import need

pytestmark = pytest.mark.integration

ESCI = Path(os.environ.get("STORESEARCH_ESCI_DIR",
                           Path(__file__).resolve().parents[3] / "shared" / "data" / "esci"))


@pytest.fixture(scope="module")
def esci_runtime(es, isolated_module, model):
    need((ESCI / "products.jsonl.gz").exists() and (ESCI / "judgments-dev.json").exists(),
         f"ESCI data not found at {ESCI} (set STORESEARCH_ESCI_DIR)")
    report = build(isolated_module, es, model, BuildOptions(products=(ESCI / "products.jsonl.gz",),
                                                            progress=False))
    assert report.accepted == 6764 and not report.rejects  # the real catalog indexes as it is
    return Runtime(isolated_module, embedder=model, es=es)


def test_hybrid_beats_each_leg_on_esci_dev(esci_runtime):
    judged = load_judgments(ESCI / "judgments-dev.json")
    scores = {mode: evaluate(esci_runtime, judged, mode) for mode in ("keyword", "semantic", "hybrid")}
    summary = {m: round(s.ndcg10, 4) for m, s in scores.items()}
    assert scores["hybrid"].ndcg10 >= 0.67, summary
    assert scores["hybrid"].ndcg10 > max(scores["keyword"].ndcg10, scores["semantic"].ndcg10), summary
    assert scores["hybrid"].recall100 >= scores["keyword"].recall100, summary
