"""`search-api train-ranker JUDGMENTS --out FILE`: cross-validate fusion and ranker, then train the model.

Prints each held-out fold's stage scores (keyword, semantic, the configured fusion and a model on
it, the CV-tuned fusion and a model on that) and their means; writes the model trained on every
query over the configured fusion (`STORESEARCH_FUSION` / `STORESEARCH_SEMANTIC_WEIGHT`, see
`ranker_train`). Serve it with `STORESEARCH_RANKER_MODEL=FILE` under that same fusion.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from indexer.index_format import ConfigError
from search_api.core.settings import ApiSettings
from search_api.retrieval import ranker_train
from search_api.retrieval.evaluation import load_judgments
from search_api.retrieval.ranker import FEATURE_SETS
from search_api.retrieval.runtime import Runtime


def add_parser(sub: Any) -> None:
    """Register the `train-ranker` subcommand."""
    parser = sub.add_parser("train-ranker", help="cross-validate and train the second-stage ranker on judgments")
    parser.add_argument("judgments", type=Path, help='JSON [{"query", "ratings": {id: gain}}] (ESCI or click-derived)')
    parser.add_argument("--out", type=Path, required=True, help="model file to write (JSON)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="legs and features cache (default: OUT with .features.json)")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds over queries (default 5)")
    parser.add_argument("--features", choices=tuple(FEATURE_SETS), default="legs",
                        help="legs: what the legs hold (no extra request; default); all: + per-field BM25, "
                             "popularity, price (one more Elasticsearch request per search)")


def print_report(folds: Sequence[ranker_train.Fold]) -> None:
    """Each fold's nDCG@10 per stage, then each stage's mean nDCG@10 / MRR / Recall@100."""
    print(f"{'fold':<5} {'n':>3} {'fusion chosen':<15} " + " ".join(f"{s:>19}" for s in ranker_train.STAGES))
    for i, fold in enumerate(folds, start=1):
        print(f"{i:<5} {fold.queries:>3} {fold.fusion!s:<15} "
              + " ".join(f"{fold.stages[s].ndcg10:19.4f}" for s in ranker_train.STAGES))
    print(f"{'stage':<20} {'nDCG@10':>8} {'MRR':>7} {'R@100':>7}   (held-out queries, all folds)")
    for stage in ranker_train.STAGES:
        m = ranker_train.mean_of(folds, stage)
        print(f"{stage:<20} {m.ndcg10:8.4f} {m.mrr:7.4f} {m.recall100:7.4f}")


def run(args: argparse.Namespace, settings: ApiSettings) -> int:
    """Collect (or reuse) the features, cross-validate, train on all queries, write the model.

    Raises:
        ConfigError: bad arguments or judgment file (exit 2, one line).
        EngineError: Elasticsearch failed (exit 1).

    """
    judged = load_judgments(args.judgments)
    if not 2 <= args.folds <= len(judged):
        raise ConfigError(f"--folds must be between 2 and the {len(judged)} judged queries; got {args.folds}")
    cache = args.cache or args.out.with_suffix(".features.json")
    queries, fingerprint = ranker_train.collect(Runtime(settings), judged, cache)
    names = FEATURE_SETS[args.features]
    setting = ranker_train.Fusion(settings.fusion, settings.semantic_weight)
    folds = ranker_train.cross_validate(queries, folds=args.folds, depth=settings.ranker_depth,
                                        setting=setting, names=names)
    print(f"{len(queries)} judged queries from {args.judgments}, {args.folds} folds, depth {settings.ranker_depth}, "
          f"features {args.features}")
    print_report(folds)
    ranker_train.train_final(queries, folds, fusion=setting, depth=settings.ranker_depth, out=args.out,
                             fingerprint=fingerprint, judgments=args.judgments, names=names)
    print(f"wrote {args.out} (over fusion {setting}, the setting; the folds suggest "
          f"{ranker_train.chosen_fusion(folds)}; data sha256 {fingerprint[:12]})")
    return 0
