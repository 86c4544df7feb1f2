"""ESCI relevance: index the real catalog through the normal pipeline, score every mode.

    .venv/bin/python bench/relevance.py [--data ../shared/data/esci] [--reuse] [--encoder onnx]
    STORESEARCH_MODEL=use-multilingual-v3 .venv/bin/python bench/relevance.py --prefix esci-use

Prints nDCG@10 (gains 3/2/1/0), Recall@100 and MRR for keyword, semantic and hybrid search over
the 94 judged dev queries. Needs ES_URL (scripts/es-local start). `--encoder` overrides
STORESEARCH_ENCODER for documents and queries alike (float32 ONNX shares torch's embedding cache:
add `--no-cache` to encode the documents with it too).
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
from search_api.retrieval.evaluation import Judged, Scores, evaluate, load_judgments  # noqa: E402
from search_api.retrieval.runtime import Runtime  # noqa: E402

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--prefix", default="esci-eval")
    parser.add_argument("--reuse", action="store_true", help="evaluate the existing build if there is one")
    parser.add_argument("--modes", default="keyword,semantic,hybrid")
    parser.add_argument("--encoder", choices=ENCODERS, help="default: STORESEARCH_ENCODER")
    parser.add_argument("--no-cache", action="store_true", help="encode every document (no embedding cache)")
    args = parser.parse_args()
    if not (args.data / "products.jsonl.gz").exists():
        print(f"relevance: no ESCI data at {args.data}", file=sys.stderr)
        return 2
    settings = ApiSettings.from_env().with_(prefix=args.prefix)
    if args.encoder:
        settings = settings.with_(encoder=args.encoder)
    es = make_client(settings)
    model = load_embedder(settings)
    build_esci(settings, es, model, args.data, reuse=args.reuse, cache=not args.no_cache)
    rt = Runtime(settings, embedder=model, es=es)
    judged = load_judgments(args.data / "judgments-dev.json")
    print(f"{'mode':<10} {'nDCG@10':>8} {'R@100':>7} {'MRR':>7} {'ms/query':>9}   (model {model.model_id}, encoder "
          f"{'numpy' if settings.model == MULTILINGUAL_MODEL else settings.encoder})")
    for scores, ms in score_modes(rt, judged, args.modes.split(",")):
        print(f"{scores.mode:<10} {scores.ndcg10:8.4f} {scores.recall100:7.4f} {scores.mrr:7.4f} {ms:9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
