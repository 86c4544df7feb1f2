"""ESCI relevance: index the real catalog through the normal pipeline, score every mode and stage.

    .venv/bin/python bench/relevance.py [--data ../shared/data/esci] [--reuse] [--encoder onnx] [--understand off]
        [--stages [--folds 5]] [--model data/ranker/esci.json] [--latency-prefix bench]
    STORESEARCH_MODEL=use-multilingual-v3 .venv/bin/python bench/relevance.py --prefix esci-use

Prints nDCG@10 (gains 3/2/1/0), Recall@100 and MRR for keyword, semantic and hybrid search over
the 94 judged dev queries, through the live search path with the configured fusion and second
stage: the shipped model (`STORESEARCH_RANKER_MODEL`, default) or `--model`. The shipped model
was trained on these dev queries, so on them its rows are in-sample (`STORESEARCH_RANKER_MODEL=off`
for the fused order; `--stages` for held-out numbers). Needs ES_URL
(scripts/es-local start). `--encoder` overrides STORESEARCH_ENCODER for documents and queries
alike (float32 ONNX shares torch's embedding cache: add `--no-cache` to encode the documents with
it too).

`--stages`: per stage (each leg, RRF at the configured weight, the fusion tuned by CV, + the
second-stage ranker on `--features` legs|all) on held-out queries only, k-fold over queries (`ranker_train`), each fold
and the means; the legs are cached beside `--model` so a rerun searches nothing.
`--latency-prefix P`: what the second stage adds per search on P's live build (e.g. the 100k
sample): its features request, the model (features + score), and both, p50 / p99 in ms.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from elasticsearch import Elasticsearch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.build.pipeline import BuildOptions, build  # noqa: E402
from indexer.core.config import MULTILINGUAL_MODEL  # noqa: E402
from indexer.core.es import make_client  # noqa: E402
from indexer.embedding.embedder import Embedder  # noqa: E402
from indexer.embedding.encoders import load_embedder  # noqa: E402
from indexer.store.versions import alias_target  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402
from search_api.retrieval import hybrid, ranker, ranker_train, semantic  # noqa: E402
from search_api.retrieval.evaluation import Judged, Scores, evaluate, load_judgments  # noqa: E402
from search_api.retrieval.params import parse_search  # noqa: E402
from search_api.retrieval.ranker_cli import print_report  # noqa: E402
from search_api.retrieval.runtime import Runtime  # noqa: E402
from search_api.retrieval.schedule import run_legs  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "esci"
ENCODERS = ("torch", "onnx", "onnx-int8")


def build_esci(settings: ApiSettings, es: Elasticsearch, model: Embedder, data: Path, *,
               reuse: bool = False, cache: bool = True) -> None:
    """Index the ESCI products under `settings.prefix` (kept as it is when `reuse` finds a live version)."""
    if reuse and alias_target(es, settings.products_alias):
        return
    report = build(settings, es, model, BuildOptions(products=(data / "products.jsonl.gz",), cache=cache,
                                                      progress=sys.stderr.isatty()))
    print(f"built {report.products_index}: {report.accepted} products, {report.vectors} vectors, "
          f"{len(report.rejects)} rejected, {report.seconds:.0f} s "
          f"({report.cache_misses or report.vectors} encoded)")


def score_modes(rt: Runtime, judged: Sequence[Judged], modes: Sequence[str]) -> list[tuple[Scores, float]]:
    """Each mode's mean metrics and its ms per query."""
    out = []
    for mode in modes:
        started = time.perf_counter()
        scores = evaluate(rt, judged, mode)
        out.append((scores, (time.perf_counter() - started) * 1000 / max(scores.queries, 1)))
    return out


def pct(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def second_stage_latency(settings: ApiSettings, model_path: Path, prefix: str, n: int = 200) -> None:
    """Time the second stage's parts on `prefix`'s live build over `n` sample-vocabulary queries."""
    from bench.latency import queries

    rt = Runtime(settings.with_(prefix=prefix, ranker_model=model_path, keyword_budget_ms=600_000,
                                semantic_budget_ms=600_000))
    model = rt.ranker
    if model is None:
        raise SystemExit(f"relevance: no usable model at {model_path}")
    live = hybrid.live_index(rt)
    request, features_ms, model_ms = [], [], []
    for i, q in enumerate(queries(n + 10)):
        req = parse_search({"q": q, "mode": "hybrid"})
        retrieved = run_legs(rt, req, live)
        ranked = hybrid.fused_ranking(req, retrieved, rt.settings)
        head = [doc_id for doc_id, _ in ranked[:rt.settings.ranker_depth]]
        t0 = time.perf_counter()
        pop = ranker.popularity(rt.es, live.index, head, req.q) if model.needs_catalog else {}
        t1 = time.perf_counter()
        vector = retrieved.query_vector
        cosine = semantic.affinity(live.vectors, head, vector) if vector is not None else {}
        ranker.rerank(model, req.q, ranked, retrieved.results, pop, cosine, depth=rt.settings.ranker_depth)
        t2 = time.perf_counter()
        if i >= 10:  # warm-up
            request.append((t1 - t0) * 1000)
            model_ms.append((t2 - t1) * 1000)
            features_ms.append((t2 - t0) * 1000)
    print(f"second stage on {live.index} ({n} queries, depth {rt.settings.ranker_depth}, "
          f"{len(model.features)} features{', catalog request' if model.needs_catalog else ''}):")
    for name, values in (("features request", request), ("model", model_ms), ("total", features_ms)):
        print(f"  {name:<17} p50 {pct(values, 50):6.2f} ms  p99 {pct(values, 99):6.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--prefix", default="esci-eval")
    parser.add_argument("--reuse", action="store_true", help="evaluate the existing build if there is one")
    parser.add_argument("--modes", default="keyword,semantic,hybrid")
    parser.add_argument("--encoder", choices=ENCODERS, help="default: STORESEARCH_ENCODER")
    parser.add_argument("--no-cache", action="store_true", help="encode every document (no embedding cache)")
    parser.add_argument("--understand", choices=("on", "off"), help="query understanding (default: setting)")
    parser.add_argument("--stages", action="store_true", help="cross-validated per-stage scores (see above)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--features", choices=tuple(ranker.FEATURE_SETS), default="legs")
    parser.add_argument("--model", type=Path, default=None,
                        help="ranker model for the mode rows; --stages writes it (default data/ranker/esci.json)")
    parser.add_argument("--latency-prefix", default=None, help="time the second stage on this prefix's build")
    args = parser.parse_args()
    if not (args.data / "products.jsonl.gz").exists():
        print(f"relevance: no ESCI data at {args.data}", file=sys.stderr)
        return 2
    settings = ApiSettings.from_env().with_(prefix=args.prefix)
    if args.encoder:
        settings = settings.with_(encoder=args.encoder)
    if args.understand:
        settings = settings.with_(understand=args.understand == "on")
    es = make_client(settings)
    model = load_embedder(settings)
    build_esci(settings, es, model, args.data, reuse=args.reuse, cache=not args.no_cache)
    judged = load_judgments(args.data / "judgments-dev.json")
    model_path = args.model or REPO / "data" / "ranker" / "esci.json"
    if args.stages:
        rt = Runtime(settings, embedder=model, es=es)
        queries, fingerprint = ranker_train.collect(rt, judged, model_path.with_suffix(".features.json"))
        names = ranker.FEATURE_SETS[args.features]
        setting = ranker_train.Fusion(settings.fusion, settings.semantic_weight)
        folds = ranker_train.cross_validate(queries, folds=args.folds, depth=settings.ranker_depth,
                                            setting=setting, names=names)
        print(f"{len(queries)} judged queries, {args.folds} folds over queries, depth {settings.ranker_depth}, "
              f"features {args.features}")
        print_report(folds)
        ranker_train.train_final(queries, folds, fusion=setting, depth=settings.ranker_depth, out=model_path,
                                 fingerprint=fingerprint, judgments=args.data / "judgments-dev.json", names=names)
        print(f"wrote {model_path} (trained on all queries over fusion {setting}; the folds suggest "
              f"{ranker_train.chosen_fusion(folds)})")
    if args.model:
        settings = settings.with_(ranker_model=args.model)
    rt = Runtime(settings, embedder=model, es=es)
    if settings.understand:  # the catalog vocabulary is read once per version, not on a timed query
        rt.understanding.vocabulary(alias_target(es, settings.products_alias))
    encoder = "numpy" if settings.model == MULTILINGUAL_MODEL else settings.encoder
    print(f"{'mode':<10} {'nDCG@10':>8} {'R@100':>7} {'MRR':>7} {'ms/query':>9}   (model {model.model_id}, encoder "
          f"{encoder}, fusion {settings.fusion} w={settings.semantic_weight:g}, "
          f"ranker {rt.ranker.path.name if rt.ranker else 'off'}, understand {'on' if settings.understand else 'off'})")
    for scores, ms in score_modes(rt, judged, args.modes.split(",")):
        print(f"{scores.mode:<10} {scores.ndcg10:8.4f} {scores.recall100:7.4f} {scores.mrr:7.4f} {ms:9.1f}")
    if args.latency_prefix:
        second_stage_latency(settings, model_path, args.latency_prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
