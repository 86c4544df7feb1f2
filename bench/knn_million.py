"""FAISS and Elasticsearch kNN at a million synthetic clustered vectors (issue 17's scale row).

    nice .venv/bin/python bench/knn_million.py [--count 1000000] [--kinds int8_hnsw,hnsw] [--queries 200]
                                               [--merge] [--keep]

Encoding a million texts takes hours on this machine, so the vectors are synthetic but shaped like
embeddings: `--clusters` centres on the unit sphere, each vector its centre plus Gaussian noise,
normalised (same-cluster cosine ≈ 0.5, across clusters ≈ 0), the model's 384 dimensions. Queries are
fresh points from the same clusters; recall@10 is against exact search (numpy). Each backend answers
the top-100 the semantic leg asks, with the service's defaults (`EsKnn` with num_candidates = k × 2,
int8 re-scored ×2; FAISS built by the indexer's own `VectorIndex.build`).

Printed per backend: indexing seconds and vectors/s (ES: bulk until refreshed; `--merge` adds a
force-merge to one segment, timed apart), segments, disk, the vector files that must stay in the page
cache for fast kNN (graph + the vectors the graph reads), JVM heap used, kNN p50/p99, recall@10.
Indices `knnmillion-<kind>` are dropped afterwards unless `--keep`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
from elasticsearch import Elasticsearch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.knn import CANDIDATES, DEPTH, create_index, recall10, size_of, timed  # noqa: E402
from bench.latency import pct  # noqa: E402
from indexer.core.es import make_client  # noqa: E402
from indexer.format.vectors import VectorIndex  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402
from search_api.retrieval.knn import EsKnn  # noqa: E402

DIMS = 384
"""all-MiniLM-L6-v2's width, the default model's."""
CHUNK = 1000
"""Documents per bulk request (~3 MB of JSON)."""
CACHE_FILES = {"hnsw": ("vex", "vec"), "int8_hnsw": ("vex", "veq")}
"""Lucene's files a graph search reads: the graph (vex) and the vectors it compares (vec float, veq int8)."""


def centres(clusters: int, seed: int) -> np.ndarray:
    """`clusters` random unit vectors (float32)."""
    out = np.random.default_rng(seed).standard_normal((clusters, DIMS), dtype=np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def around(centre_rows: np.ndarray, count: int, noise: float, seed: int) -> np.ndarray:
    """`count` unit vectors, each a random centre plus Gaussian noise of norm ≈ `noise` (float32)."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, DIMS), dtype=np.float32)
    for start in range(0, count, 100_000):
        stop = min(count, start + 100_000)
        rows = centre_rows[rng.integers(0, len(centre_rows), stop - start)]
        rows = rows + rng.standard_normal(rows.shape, dtype=np.float32) * np.float32(noise / np.sqrt(DIMS))
        out[start:stop] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def exact_top10(matrix: np.ndarray, queries: np.ndarray) -> list[list[int]]:
    """Row numbers of each query's 10 nearest by inner product (the vectors are normalised)."""
    best = np.full((len(queries), 10), -np.inf, dtype=np.float32)
    rows = np.zeros((len(queries), 10), dtype=np.int64)
    for start in range(0, len(matrix), 200_000):
        scores = queries @ matrix[start:start + 200_000].T
        top = np.argpartition(-scores, 10, axis=1)[:, :10]
        cand_scores = np.concatenate([best, np.take_along_axis(scores, top, axis=1)], axis=1)
        cand_rows = np.concatenate([rows, top + start], axis=1)
        keep = np.argsort(-cand_scores, axis=1)[:, :10]
        best = np.take_along_axis(cand_scores, keep, axis=1)
        rows = np.take_along_axis(cand_rows, keep, axis=1)
    return rows.tolist()


def bulk_bodies(name: str, matrix: np.ndarray) -> Iterator[str]:
    """NDJSON bulk bodies of CHUNK documents, vectors rounded to 5 decimals (shorter JSON, same ranking)."""
    for start in range(0, len(matrix), CHUNK):
        lines = []
        for offset, row in enumerate(np.round(matrix[start:start + CHUNK], 5).tolist()):
            pid = f"s{start + offset}"
            lines.append(json.dumps({"index": {"_index": name, "_id": pid}}))
            lines.append(json.dumps({"id": pid, "status": "on_sale", "has_vector": True, "embedding": row}))
        yield "\n".join(lines) + "\n"


def index_es(es: Elasticsearch, name: str, kind: str, matrix: np.ndarray, merge: bool,
             threads: int) -> dict[str, float]:
    """Bulk-load `matrix` with `threads` requests in flight (one shard indexes a request on one thread)."""
    # separate files (not compound), so the vector files' sizes show in the segment stats
    create_index(es, name, kind, DIMS, **{"index.compound_format": False})
    bulk_es = es.options(request_timeout=1800)

    def send(body: str) -> None:
        answer = bulk_es.bulk(operations=body)
        if answer["errors"]:
            failed = next(i for i in answer["items"] if i["index"].get("error"))
            raise SystemExit(f"knn_million: indexing {name} failed: {failed['index']['error']}")

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        pending: list[Future[None]] = []
        for done, body in enumerate(bulk_bodies(name, matrix), start=1):
            pending.append(pool.submit(send, body))
            if len(pending) >= 2 * threads:
                pending.pop(0).result()
            if done * CHUNK % 100_000 == 0:
                print(f"  {name}: {done * CHUNK:,} sent in {time.perf_counter() - started:.0f} s", file=sys.stderr,
                      flush=True)
        for future in pending:
            future.result()
    es.options(request_timeout=3600).indices.refresh(index=name)
    out = {"index_s": time.perf_counter() - started}
    if merge:
        started = time.perf_counter()
        es.options(request_timeout=7200).indices.forcemerge(index=name, max_num_segments=1)
        out["merge_s"] = time.perf_counter() - started
    return out


def file_sizes(es: Elasticsearch, name: str) -> tuple[int, int, dict[str, int]]:
    """The index's segment count, the documents in its non-compound segments, and their bytes per file extension.

    Lucene writes newly flushed segments as one compound file whatever the setting, so the vector
    files' sizes are read off the non-compound (merged) segments only and divided by their documents.
    """
    stats = es.indices.stats(index=name, metric="segments", include_segment_file_sizes=True)
    segments = stats["_all"]["primaries"]["segments"]
    listed = es.cat.segments(index=name, format="json", h="docs.count,compound")
    plain_docs = sum(int(row["docs.count"]) for row in listed if row["compound"] == "false")
    sizes = {ext: int(v["size_in_bytes"]) for ext, v in segments.get("file_sizes", {}).items()}
    return int(segments["count"]), plain_docs, sizes


def heap_used(es: Elasticsearch) -> int:
    nodes = es.nodes.stats(metric="jvm")["nodes"].values()
    return sum(int(n["jvm"]["mem"]["heap_used_in_bytes"]) for n in nodes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--clusters", type=int, default=2000)
    parser.add_argument("--noise", type=float, default=1.0, help="noise norm relative to a centre's (1.0)")
    parser.add_argument("--kinds", default="int8_hnsw,hnsw", help="Elasticsearch index_options types, in order")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--merge", action="store_true", help="force-merge each index to one segment (timed apart)")
    parser.add_argument("--keep", action="store_true", help="keep the knnmillion indices afterwards")
    parser.add_argument("--skip-faiss", action="store_true")
    parser.add_argument("--bulk-threads", type=int, default=2, help="bulk requests in flight (2: this machine's cores)")
    args = parser.parse_args()
    settings = ApiSettings.from_env()
    es = make_client(settings)

    started = time.perf_counter()
    centre_rows = centres(args.clusters, seed=0)
    matrix = around(centre_rows, args.count, args.noise, seed=1)
    queries = around(centre_rows, args.queries, args.noise, seed=2)  # new points from the same clusters
    truth_rows = exact_top10(matrix, queries)
    truth = [[f"s{r}" for r in row] for row in truth_rows]
    print(f"{args.count:,} synthetic vectors ({DIMS} dims, {args.clusters} clusters, noise {args.noise}), "
          f"{len(queries)} queries, exact top-10 in {time.perf_counter() - started:.0f} s; top-{DEPTH} per query",
          flush=True)
    header = (f"{'backend':<22} {'index s':>8} {'vec/s':>6} {'merge s':>8} {'segs':>5} {'disk MB':>8} "
              f"{'cache B/v':>9} {'heap MB':>8} {'p50 ms':>7} {'p99 ms':>7} {'recall@10':>9}")
    rows = []
    if not args.skip_faiss:
        ids = [f"s{i}" for i in range(args.count)]
        started = time.perf_counter()
        index = VectorIndex.build(ids, matrix, version="knnmillion", model="synthetic")
        build_s = time.perf_counter() - started
        answers, ms = timed([pid for pid, _ in index.search(q, DEPTH)] for q in queries)
        faiss_mb = args.count * DIMS * 4 / 1e6
        rows.append(f"{'faiss ' + index.manifest.factory:<22} {build_s:8.0f} {args.count / build_s:6.0f} {'-':>8} "
                    f"{'-':>5} {faiss_mb:8.0f} {DIMS * 4:9d} {'-':>8} {pct(ms, 50):7.1f} {pct(ms, 99):7.1f} "
                    f"{recall10(answers, truth):9.3f}")
        print(rows[-1], flush=True)
        del index
    for kind in args.kinds.split(","):
        name = f"knnmillion-{kind.replace('_', '-')}"
        times = index_es(es, name, kind, matrix, args.merge, args.bulk_threads)
        segments, plain_docs, sizes = file_sizes(es, name)
        per_vector = sum(sizes.get(ext, 0) for ext in CACHE_FILES[kind]) / plain_docs if plain_docs else float("nan")
        knn = EsKnn(lambda: es, name, candidates_factor=settings.knn_candidates_factor,
                    rescore_oversample=settings.knn_rescore_oversample if kind == "int8_hnsw" else 0.0)
        for _ in range(2):  # the first pass pages the graph in; the second is timed
            answers, ms = timed([pid for pid, _ in knn.search(q, DEPTH, filter=CANDIDATES)] for q in queries)
        merge = f"{times['merge_s']:8.0f}" if "merge_s" in times else f"{'-':>8}"
        rows.append(f"{'es ' + kind:<22} {times['index_s']:8.0f} {args.count / times['index_s']:6.0f} {merge} "
                    f"{segments:5d} {size_of(es, name) / 1e6:8.0f} {per_vector:9.0f} {heap_used(es) / 1e6:8.0f} "
                    f"{pct(ms, 50):7.1f} {pct(ms, 99):7.1f} {recall10(answers, truth):9.3f}")
        print(rows[-1], flush=True)
        print(f"  {name}: {plain_docs:,} vectors in non-compound segments; their files MB: "
              + ", ".join(f"{ext} {b / 1e6:.0f}" for ext, b in sorted(sizes.items()) if b >= 1e6), flush=True)
        if not args.keep:
            es.indices.delete(index=name)
    print("\n" + header)
    for row in rows:
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
