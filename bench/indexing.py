"""Indexing throughput: the end-to-end build pipeline vs the model's raw encode rate.

    .venv/bin/python bench/indexing.py [--size 100000] [--prefix bench]

Generates (or reuses) a deterministic sample catalog. Measures the model alone encoding the texts
a build embeds, before and after the build (averaged: these machines drift by ±15% over minutes),
and a cold full build in between (read, validate, analyse, embed, bulk to ES, FAISS snapshot,
verification, alias swap; empty embedding cache, every document written); prints both rates and
their ratio. Then two rebuilds of the unchanged catalog and their speed-ups over the cold build:
one that writes every document again (embeddings and analysis from the caches: `indexer build
--full`), and the default one, which clones the live version and writes only what changed (here:
nothing). Needs ES_URL (scripts/es-local start). The last build stays live under the prefix for
bench/latency.py.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.build.pipeline import BuildOptions, build  # noqa: E402
from indexer.catalog import load  # noqa: E402
from indexer.core.es import make_client  # noqa: E402
from indexer.embedding.embedder import document_text  # noqa: E402
from indexer.embedding.encoders import load_embedder  # noqa: E402
from indexer.sample import generate  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402


def _es_cpu_s(es) -> float:  # type: ignore[no-untyped-def]
    stats = es.nodes.stats(metric="process")["nodes"]
    return sum(n["process"]["cpu"]["total_in_millis"] for n in stats.values()) / 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--data", type=Path, default=REPO / "data" / "bench")
    parser.add_argument("--raw-sample", type=int, default=20_000,
                        help="texts encoded for each raw measurement (default 20000)")
    parser.add_argument("--batch-size", type=int, default=BuildOptions.batch_size,
                        help="products per encode+bulk step of the build")
    parser.add_argument("--no-cache", action="store_true",
                        help="cold build without the caches (every text encoded, duplicates too); no warm run")
    args = parser.parse_args()
    cache_dir = Path(tempfile.mkdtemp(prefix="storesearch-bench-cache-"))
    settings = ApiSettings.from_env().with_(prefix=args.prefix, cache_dir=cache_dir)
    catalog_dir = args.data / f"sample-{args.size}"
    products_path = catalog_dir / "products.jsonl"
    if not products_path.exists():
        generate.write(catalog_dir, args.size)
    model = load_embedder(settings)

    log = load.RejectLog()
    texts = [model.readable(document_text(p, settings.embed_template))
             for p in load.products([products_path], log)]
    texts = [t for t in texts if t][:args.raw_sample]
    model.embed_documents(texts[:256])  # warm-up, not timed

    def raw_rate() -> float:
        started = time.perf_counter()
        for i in range(0, len(texts), args.batch_size):  # the same calls the build makes
            model.embed_documents(texts[i:i + args.batch_size])
        return len(texts) / (time.perf_counter() - started)

    # The machines are noisy and drift over minutes: bracket the build with two raw runs.
    raw_before = raw_rate()

    es = make_client(settings)
    es_cpu_before = _es_cpu_s(es)
    cpu_before = time.process_time()
    options = BuildOptions(products=(products_path,), brand_keywords=(catalog_dir / "brand_keywords.jsonl",),
                           batch_size=args.batch_size, progress=sys.stderr.isatty(), cache=not args.no_cache,
                           reuse=False)
    report = build(settings, es, model, options)
    es_cpu = _es_cpu_s(es) - es_cpu_before
    own_cpu = time.process_time() - cpu_before
    pipeline_rate = report.accepted / report.seconds
    raw_after = raw_rate()
    raw = (raw_before + raw_after) / 2
    print(f"products            {report.accepted} ({report.vectors} with vectors)")
    print(f"raw encode          {raw:8.1f} docs/s  (before build {raw_before:.1f}, after {raw_after:.1f}; "
          f"{len(texts)} texts)")
    print(f"build end to end    {pipeline_rate:8.1f} docs/s  ({report.seconds:.1f} s, "
          f"of which encoding {report.embed_seconds:.1f} s; {report.cache_misses or report.vectors} texts "
          f"encoded{', no cache' if args.no_cache else ', repeats of earlier texts taken from the cache'})")
    print("phases              " + ", ".join(f"{k} {v:.1f} s" for k, v in report.phases.items()))
    print("load products       " + ", ".join(f"{k} {v:.1f} s" for k, v in report.load_split.items()))
    print(f"cpu during build    indexer {own_cpu:.0f} s, elasticsearch {es_cpu:.0f} s (2 cores = "
          f"{2 * report.seconds:.0f} core-s available)")
    print(f"ratio build/raw     {pipeline_rate / raw:8.3f}")
    if args.no_cache:
        print(f"live version        {report.products_index}")
        return 0
    previous = [report.products_index]
    for label, reuse in (("warm, rewrite all", False), ("warm, from clone", True)):
        es_cpu_before = _es_cpu_s(es)
        cpu_before = time.process_time()
        warm = build(settings, es, model, replace(options, reuse=reuse))
        warm_cpu, warm_es_cpu = time.process_time() - cpu_before, _es_cpu_s(es) - es_cpu_before
        how = (f"cloned {warm.base}: {warm.rewritten} written, {warm.removed} removed" if warm.base
               else f"{warm.rewritten} written; {warm.cache_hits} embeddings cached, {warm.cache_misses} encoded")
        print(f"{label:<20}{warm.docs_per_s:8.1f} docs/s  ({warm.seconds:.1f} s; {how})")
        print("  phases            " + ", ".join(f"{k} {v:.1f} s" for k, v in warm.phases.items()))
        print(f"  cpu               indexer {warm_cpu:.0f} s, elasticsearch {warm_es_cpu:.0f} s")
        print(f"  speed-up vs cold  {report.seconds / warm.seconds:8.2f}x")
        previous.append(warm.products_index)
    print(f"live version        {previous[-1]} (earlier ones of this run deleted)")
    for index in previous[:-1]:
        es.indices.delete(index=index, ignore_unavailable=True)
        shutil.rmtree(settings.vectors_dir / index, ignore_errors=True)
    shutil.rmtree(cache_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
