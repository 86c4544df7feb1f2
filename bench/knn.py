"""FAISS vs Elasticsearch kNN (float HNSW, int8 HNSW): recall, latency, ESCI relevance.

    nice .venv/bin/python bench/knn.py [--snapshot DIR] [--limit N] [--esci ../shared/data/esci] [--skip-esci]

1. Real-model vectors at the scale of a FAISS snapshot (default: the newest `bench-products-*`
   under STORESEARCH_VECTORS_DIR, 100k MiniLM vectors): the vectors go into two indices of this
   benchmark's own (`knnbench-<n>-hnsw`, `knnbench-<n>-int8_hnsw`: id, status, the vector;
   kept for the next run, `--drop` deletes them), force-merged to one segment. The latency
   benchmark's English queries are encoded by the real model; each backend answers a top-100 as
   the semantic leg asks it (FAISS unfiltered then deleted products dropped, kNN filtered to the
   not deleted, num_candidates = 100 × factor; int8 also with `rescore_vector`); recall@10 is
   against exact search over the products not deleted; latency is the call as the API makes it
   (client side, sequential).
2. ESCI dev: the catalog built once per backend (`knnbench-esci-<backend>`, kept; FAISS reads the
   `esci-eval` build when there is one) and the 94 judged queries searched through the live
   search path: nDCG@10 semantic and hybrid, and each mode's p50/p99.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from elasticsearch import Elasticsearch, helpers

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.latency import pct, queries  # noqa: E402
from bench.relevance import DEFAULT_DATA, build_esci  # noqa: E402
from indexer.core.es import make_client  # noqa: E402
from indexer.embedding.embedder import Embedder  # noqa: E402
from indexer.embedding.encoders import load_embedder  # noqa: E402
from indexer.format.vectors import VectorIndex  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402
from search_api.retrieval import hybrid  # noqa: E402
from search_api.retrieval.evaluation import load_judgments, ndcg_at  # noqa: E402
from search_api.retrieval.knn import EsKnn, knn_filter  # noqa: E402
from search_api.retrieval.params import parse_search  # noqa: E402
from search_api.retrieval.runtime import Runtime  # noqa: E402

KINDS = ("hnsw", "int8_hnsw")
FACTORS = (1.0, 2.0, 4.0)
RESCORES = {"hnsw": (0.0,), "int8_hnsw": (0.0, 2.0)}
"""`rescore_vector` oversampling tried per kind (0: none; float graphs have nothing to re-score)."""
DEPTH = 100
"""The semantic leg's depth (`semantic_candidates`)."""
CANDIDATES = knn_filter()
"""The leg's kNN filter: never a deleted product."""


def newest_snapshot(settings: ApiSettings, prefix: str) -> Path | None:
    found = sorted(settings.vectors_dir.glob(f"{prefix}-products-*"))
    return found[-1] if found else None


def statuses(es: Elasticsearch, index: str) -> dict[str, str]:
    """Each product's status in the catalog the snapshot was built from (visibility filter)."""
    out = {}
    for hit in helpers.scan(es, index=index, size=5000, query={"query": {"match_all": {}}, "stored_fields": "_none_",
                                                              "docvalue_fields": ["id", "status"],
                                                              "sort": ["_doc"]}):
        f = hit["fields"]
        out[f["id"][0]] = f.get("status", ["on_sale"])[0]
    return out


def create_index(es: Elasticsearch, name: str, kind: str, dims: int, **settings: object) -> None:
    """A fresh one-shard benchmark index of `kind` (no refresh while loading): id, status, the vector."""
    es.indices.delete(index=name, ignore_unavailable=True)
    es.indices.create(index=name, settings={"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": -1,
                                            **settings},
                      mappings={"dynamic": "strict", "_source": {"excludes": ["embedding"]}, "properties": {
                          "id": {"type": "keyword"}, "status": {"type": "keyword"}, "has_vector": {"type": "boolean"},
                          "embedding": {"type": "dense_vector", "dims": dims, "index": True,
                                        "similarity": "cosine", "index_options": {"type": kind}}}})


def ensure_index(es: Elasticsearch, name: str, kind: str, ids: Sequence[str], matrix: np.ndarray,
                 status: dict[str, str]) -> tuple[float | None, int]:
    """The benchmark index of `kind` with every vector (seconds to index and merge, None: kept); its bytes."""
    if es.indices.exists(index=name) and es.count(index=name)["count"] == len(ids):
        return None, size_of(es, name)
    create_index(es, name, kind, matrix.shape[1])
    started = time.perf_counter()

    def actions() -> Iterator[dict]:
        for pid, row in zip(ids, matrix, strict=True):
            yield {"_index": name, "_id": pid, "id": pid, "status": status.get(pid, "on_sale"), "has_vector": True,
                   "embedding": [round(float(x), 6) for x in row]}

    bulk_es = es.options(request_timeout=300)
    for ok, item in helpers.streaming_bulk(bulk_es, actions(), chunk_size=500, raise_on_error=False):
        if not ok:
            raise SystemExit(f"knn: indexing {name} failed: {item}")
    es.options(request_timeout=1800).indices.refresh(index=name)
    es.options(request_timeout=1800).indices.forcemerge(index=name, max_num_segments=1)
    return time.perf_counter() - started, size_of(es, name)


def size_of(es: Elasticsearch, name: str) -> int:
    return int(es.indices.stats(index=name, metric="store")["_all"]["primaries"]["store"]["size_in_bytes"])


def timed(calls: Iterator[list[str]]) -> tuple[list[list[str]], list[float]]:
    answers, ms = [], []
    while True:
        started = time.perf_counter()
        try:
            answer = next(calls)
        except StopIteration:
            return answers, ms
        ms.append((time.perf_counter() - started) * 1000)
        answers.append(answer)


def recall10(answers: Sequence[Sequence[str]], truth: Sequence[Sequence[str]]) -> float:
    return float(np.mean([len(set(a[:10]) & set(t[:10])) / 10 for a, t in zip(answers, truth, strict=True)]))


def vectors_part(args: argparse.Namespace, settings: ApiSettings, es: Elasticsearch, model: Embedder) -> None:
    snapshot = args.snapshot or newest_snapshot(settings, "bench")
    if snapshot is None:
        print("knn: no snapshot (build bench-products first or pass --snapshot)", file=sys.stderr)
        return
    faiss_index = VectorIndex.load(snapshot)
    ids, matrix = faiss_index.vectors(faiss_index.ids)
    if args.limit and args.limit < len(ids):  # a loaded machine: the snapshot's first N, FAISS as a build of N makes it
        ids, matrix = ids[:args.limit], matrix[:args.limit]
        faiss_index = VectorIndex.build(ids, matrix, version="knnbench", model=faiss_index.manifest.model)
    n = len(ids)
    status = statuses(es, snapshot.name) if es.indices.exists(index=snapshot.name) else {}
    visible = np.array([status.get(pid, "on_sale") != "deleted" for pid in ids])
    texts = [q for q in dict.fromkeys(queries(args.queries)) if model.readable(q)]
    qv = np.vstack([model.embed_query(model.readable(q)) for q in texts])
    scores = qv @ matrix[visible].T
    visible_ids = [pid for pid, keep in zip(ids, visible, strict=True) if keep]
    truth = [[visible_ids[i] for i in np.argsort(-row)[:10]] for row in scores]
    print(f"\n{n} real-model vectors ({snapshot.name}, {matrix.shape[1]} dims, {visible.mean():.1%} not deleted), "
          f"{len(texts)} distinct queries, top-{DEPTH} as the semantic leg asks; recall@10 vs exact search")
    print(f"{'backend':<26} {'recall@10':>9} {'p50 ms':>7} {'p99 ms':>7} {'index s':>8} {'disk MB':>8}")
    shown = set(visible_ids)

    def faiss_calls() -> Iterator[list[str]]:
        for q in qv:
            yield [pid for pid, _ in faiss_index.search(q, DEPTH) if pid in shown]

    answers, ms = timed(faiss_calls())
    with tempfile.TemporaryDirectory() as tmp:  # what this FAISS index takes on disk (the snapshot's files)
        saved = faiss_index.save(Path(tmp) / "snapshot")
        disk = sum(p.stat().st_size for p in saved.iterdir())
    print(f"{'faiss ' + faiss_index.manifest.factory:<26} {recall10(answers, truth):9.3f} {pct(ms, 50):7.1f} "
          f"{pct(ms, 99):7.1f} {'-':>8} {disk / 1e6:8.0f}")
    for kind in KINDS:
        name = f"knnbench-{n // 1000}k-{kind}"
        seconds, size = ensure_index(es, name, kind, ids, matrix, status)
        for factor, oversample in ((f, o) for o in RESCORES[kind] for f in FACTORS):
            knn = EsKnn(lambda: es, name, candidates_factor=factor, rescore_oversample=oversample)

            def es_calls(knn: EsKnn = knn) -> Iterator[list[str]]:
                for q in qv:
                    yield [pid for pid, _ in knn.search(q, DEPTH, filter=CANDIDATES)]

            for _ in es_calls():  # one pass to warm the graph's pages
                pass
            answers, ms = timed(es_calls())
            label = f"es {kind} nc={knn.num_candidates(DEPTH)}" + (f" rescore×{oversample:g}" if oversample else "")
            print(f"{label:<26} {recall10(answers, truth):9.3f} {pct(ms, 50):7.1f} {pct(ms, 99):7.1f} "
                  f"{seconds if seconds is not None else float('nan'):8.0f} {size / 1e6:8.0f}")
        if args.drop:
            es.indices.delete(index=name)


def esci_part(args: argparse.Namespace, settings: ApiSettings, es: Elasticsearch, model: Embedder) -> None:
    if not (args.esci / "judgments-dev.json").exists():
        print(f"knn: no ESCI data at {args.esci}", file=sys.stderr)
        return
    judged = load_judgments(args.esci / "judgments-dev.json")
    print(f"\nESCI dev, {len(judged)} judged queries, through the live search path (size 100)")
    print(f"{'backend':<26} {'sem nDCG@10':>11} {'hyb nDCG@10':>11} {'sem p50/p99 ms':>15} {'hyb p50/p99 ms':>15}")
    backends = {"faiss": {"vector_backend": "faiss"},
                "es hnsw": {"vector_backend": "elasticsearch", "knn_index": "hnsw"},
                "es int8_hnsw": {"vector_backend": "elasticsearch", "knn_index": "int8_hnsw"}}
    for label, changes in backends.items():
        prefix = "esci-eval" if label == "faiss" else f"knnbench-esci-{changes['knn_index'].replace('_', '-')}"
        # no leg budgets: on a loaded machine a cut leg would measure the machine, not the backend
        s = settings.with_(prefix=prefix, query_log=False, keyword_budget_ms=600_000, semantic_budget_ms=600_000,
                           **changes)
        if label != "faiss":  # this benchmark's own builds keep their snapshots apart
            s = s.with_(vectors_dir=args.vectors_dir)
        build_esci(s, es, model, args.esci, reuse=True)
        rt = Runtime(s, embedder=model, es=es)
        row = []
        for mode in ("semantic", "hybrid"):
            ndcgs, ms = [], []
            for _ in range(2):  # the first round warms caches; the second is timed
                ndcgs, ms = [], []
                for item in judged:
                    started = time.perf_counter()
                    out = hybrid.search(rt, parse_search({"q": item.query, "mode": mode, "size": 100}))
                    ms.append((time.perf_counter() - started) * 1000)
                    assert out["meta"]["vector_backend"] == s.vector_backend
                    ndcgs.append(ndcg_at([r["id"] for r in out["results"]], item.ratings))
            row.append((float(np.mean(ndcgs)), pct(ms, 50), pct(ms, 99)))
        (sn, s50, s99), (hn, h50, h99) = row
        print(f"{label:<26} {sn:11.4f} {hn:11.4f} {f'{s50:.1f} / {s99:.1f}':>15} {f'{h50:.1f} / {h99:.1f}':>15}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snapshot", type=Path, help="a FAISS snapshot directory (default: newest bench-products)")
    parser.add_argument("--limit", type=int, default=0, help="only the snapshot's first N vectors (0: all)")
    parser.add_argument("--queries", type=int, default=400, help="latency-benchmark queries drawn (English kept)")
    parser.add_argument("--esci", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--skip-vectors", action="store_true")
    parser.add_argument("--skip-esci", action="store_true")
    parser.add_argument("--vectors-dir", type=Path, default=REPO / "data" / "vectors-knnbench",
                        help="snapshots of this benchmark's ESCI builds (the indexer writes one per build)")
    parser.add_argument("--drop", action="store_true", help="delete the knnbench vector indices afterwards")
    args = parser.parse_args()
    settings = ApiSettings.from_env()
    es = make_client(settings)
    model = load_embedder(settings, threads=settings.query_torch_threads)
    if not args.skip_vectors:
        vectors_part(args, settings, es, model)
    if not args.skip_esci:
        esci_part(args, settings, es, model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
