"""ESCI relevance: index the real catalog through the normal pipeline, score every mode.

    .venv/bin/python bench/relevance.py [--data ../shared/data/esci] [--reuse]

Prints nDCG@10 (gains 3/2/1/0), Recall@100 and MRR for keyword, semantic and hybrid search over
the 94 judged dev queries. Needs ES_URL (scripts/es-local start).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.build.pipeline import BuildOptions, build  # noqa: E402
from indexer.core.es import make_client  # noqa: E402
from indexer.embedding.embedder import SentenceTransformerEmbedder  # noqa: E402
from indexer.store.versions import alias_target  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402
from search_api.retrieval.evaluation import evaluate, load_judgments  # noqa: E402
from search_api.retrieval.runtime import Runtime  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "esci"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--prefix", default="esci-eval")
    parser.add_argument("--reuse", action="store_true", help="evaluate the existing build if there is one")
    parser.add_argument("--modes", default="keyword,semantic,hybrid")
    args = parser.parse_args()
    if not (args.data / "products.jsonl.gz").exists():
        print(f"relevance: no ESCI data at {args.data}", file=sys.stderr)
        return 2
    settings = ApiSettings.from_env().with_(prefix=args.prefix)
    es = make_client(settings)
    model = SentenceTransformerEmbedder.from_settings(settings)
    if not (args.reuse and alias_target(es, settings.products_alias)):
        report = build(settings, es, model, BuildOptions(products=(args.data / "products.jsonl.gz",),
                                                          progress=sys.stderr.isatty()))
        print(f"built {report.products_index}: {report.accepted} products, {report.vectors} vectors, "
              f"{len(report.rejects)} rejected, {report.seconds:.0f} s")
    rt = Runtime(settings, embedder=model, es=es)
    judged = load_judgments(args.data / "judgments-dev.json")
    print(f"{'mode':<10} {'nDCG@10':>8} {'R@100':>7} {'MRR':>7} {'ms/query':>9}")
    for mode in args.modes.split(","):
        started = time.perf_counter()
        scores = evaluate(rt, judged, mode)
        ms = (time.perf_counter() - started) * 1000 / max(scores.queries, 1)
        print(f"{mode:<10} {scores.ndcg10:8.4f} {scores.recall100:7.4f} {scores.mrr:7.4f} {ms:9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
