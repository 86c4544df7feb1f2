"""Encoders side by side: torch, ONNX Runtime float32 and ONNX Runtime int8, on real ESCI text.

    PYTHONPATH=. .venv/bin/python bench/encoders.py [--data ../shared/data/esci] [--rounds 3]
        [--docs 1024] [--no-relevance] [--reuse]

1. Speed, in one process, alternating (every query and every document batch goes to each encoder
   in turn, the order rotating), so that drift on a shared machine hits all three alike:
   single queries (the 94 ESCI dev queries, 1 thread: p50/p99 wall ms and mean CPU ms) and
   document batches (the embed template over ESCI products, 2 threads: docs/s).
2. Agreement: cosine of each ONNX vector with the torch one (queries and documents).
3. Relevance (needs ES_URL): for each encoder, the ESCI catalog is indexed through the normal
   pipeline with documents AND queries encoded by it (no embedding cache), and the semantic and
   hybrid nDCG@10 over the dev judgments are compared with torch's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.relevance import DEFAULT_DATA, ENCODERS, build_esci, score_modes  # noqa: E402
from indexer.catalog import load  # noqa: E402
from indexer.core.es import make_client  # noqa: E402
from indexer.embedding.embedder import Embedder, document_text  # noqa: E402
from indexer.embedding.encoders import load_embedder  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402
from search_api.retrieval.evaluation import load_judgments  # noqa: E402
from search_api.retrieval.runtime import Runtime  # noqa: E402

DOC_BATCH = 256
"""Texts per timed `embed_documents` call (each encoder batches 64 per forward pass inside)."""


def _texts(data: Path, settings: ApiSettings, limit: int, model: Embedder) -> tuple[list[str], list[str]]:
    """The dev queries and up to `limit` embedded document texts of ESCI products."""
    queries = [j.query for j in load_judgments(data / "judgments-dev.json")]
    docs = []
    for product in load.products([data / "products.jsonl.gz"], load.RejectLog()):
        if text := model.readable(document_text(product, settings.embed_template)):
            docs.append(text)
        if len(docs) >= limit:
            break
    return queries, docs


def _set_torch_threads(n: int) -> None:
    """Torch's thread count is per process: the torch encoder gets the phase's count."""
    import torch

    torch.set_num_threads(n)


def _timed(model: Embedder, texts: list[str]) -> tuple[float, float, np.ndarray]:
    wall, cpu = time.perf_counter(), time.thread_time()
    vectors = model.embed_documents(texts)
    return time.perf_counter() - wall, time.thread_time() - cpu, vectors


def query_speed(models: dict[str, Embedder], queries: list[str], rounds: int) -> dict[str, np.ndarray]:
    """Per encoder: (wall s, cpu s) of every single-query encode, 1 thread, alternating."""
    _set_torch_threads(1)
    names = list(models)
    for name in names:  # warm-up, not timed
        models[name].embed_documents(queries[:10])
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for r in range(rounds):
        for i, query in enumerate(queries):
            k = (r + i) % len(names)
            for name in names[k:] + names[:k]:
                wall, cpu, _ = _timed(models[name], [query])
                times[name].append((wall, cpu))
    return {name: np.array(values) for name, values in times.items()}


def doc_speed(models: dict[str, Embedder], docs: list[str],
              rounds: int) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Per encoder: docs/s over alternating batches (2 threads), and its vectors of `docs`."""
    _set_torch_threads(2)
    names = list(models)
    seconds = dict.fromkeys(names, 0.0)
    vectors: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for r in range(rounds):
        for b, start in enumerate(range(0, len(docs), DOC_BATCH)):
            k = (r + b) % len(names)
            for name in names[k:] + names[:k]:
                wall, _, out = _timed(models[name], docs[start:start + DOC_BATCH])
                seconds[name] += wall
                if r == 0:
                    vectors[name].append(out)
    rates = {name: rounds * len(docs) / seconds[name] for name in names}
    return rates, {name: np.concatenate(v) for name, v in vectors.items()}


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def speed_report(settings: ApiSettings, data: Path, args: argparse.Namespace) -> None:
    """Print query latency, document throughput and agreement with torch."""
    query_side = {e: load_embedder(settings.with_(encoder=e), threads=1) for e in ENCODERS if e != "torch"}
    doc_side = {e: load_embedder(settings.with_(encoder=e), threads=2) for e in ENCODERS}
    query_side = {"torch": doc_side["torch"], **query_side}  # one torch model; its threads follow the phase
    queries, docs = _texts(data, settings, args.docs, doc_side["torch"])
    times = query_speed(query_side, queries, args.rounds)
    rates, doc_vectors = doc_speed(doc_side, docs, max(1, args.rounds - 1))
    query_vectors = {name: model.embed_documents(queries) for name, model in query_side.items()}
    print(f"single queries: {len(queries)} ESCI dev queries x {args.rounds} rounds, 1 thread; "
          f"documents: {len(docs)} texts x {max(1, args.rounds - 1)} rounds in calls of {DOC_BATCH}, 2 threads")
    print(f"{'encoder':<10} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms':>7} {'docs/s':>8}  "
          f"{'cos(q) mean/min':>16}  {'cos(doc) mean/min':>18}")
    for name in ENCODERS:
        wall, cpu = times[name][:, 0] * 1000, times[name][:, 1] * 1000
        cq = _cosines(query_vectors[name], query_vectors["torch"])
        cd = _cosines(doc_vectors[name], doc_vectors["torch"])
        print(f"{name:<10} {np.percentile(wall, 50):7.2f} {np.percentile(wall, 99):7.2f} {cpu.mean():7.2f} "
              f"{rates[name]:8.1f}  {cq.mean():7.4f}/{cq.min():.4f}  {cd.mean():8.4f}/{cd.min():.4f}")
    base_p50, base_rate = np.percentile(times["torch"][:, 0], 50), rates["torch"]
    for name in ENCODERS[1:]:
        print(f"{name}: query p50 {base_p50 / np.percentile(times[name][:, 0], 50):.2f}x faster than torch, "
              f"documents {rates[name] / base_rate:.2f}x")


def relevance_report(settings: ApiSettings, data: Path, args: argparse.Namespace) -> None:
    """Index ESCI once per encoder (documents and queries by that encoder) and compare nDCG@10."""
    es = make_client(settings)
    judged = load_judgments(data / "judgments-dev.json")
    results: dict[str, dict[str, float]] = {}
    for encoder in ENCODERS:
        own = settings.with_(prefix=f"{args.prefix}-{encoder}", encoder=encoder)
        model = load_embedder(own)
        build_esci(own, es, model, data, reuse=args.reuse, cache=False)
        scores = score_modes(Runtime(own, embedder=model, es=es), judged, ("semantic", "hybrid"))
        results[encoder] = {s.mode: s.ndcg10 for s, _ in scores}
    print(f"ESCI dev nDCG@10 ({len(judged)} queries), documents and queries encoded by each encoder")
    print(f"{'encoder':<10} {'semantic':>9} {'change':>8} {'hybrid':>9} {'change':>8}")
    for encoder, row in results.items():
        base = results["torch"]
        print(f"{encoder:<10} {row['semantic']:9.4f} {row['semantic'] - base['semantic']:+8.4f} "
              f"{row['hybrid']:9.4f} {row['hybrid'] - base['hybrid']:+8.4f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the queries (documents: one fewer)")
    parser.add_argument("--docs", type=int, default=1024, help="document texts per pass")
    parser.add_argument("--prefix", default="esci-encoder", help="index prefix; `-<encoder>` is appended")
    parser.add_argument("--no-relevance", action="store_true", help="speed and agreement only (no ES)")
    parser.add_argument("--reuse", action="store_true", help="evaluate existing ESCI builds if there are")
    args = parser.parse_args()
    if not (args.data / "products.jsonl.gz").exists():
        print(f"encoders: no ESCI data at {args.data}", file=sys.stderr)
        return 2
    settings = ApiSettings.from_env()
    started = time.perf_counter()
    speed_report(settings, args.data, args)
    if not args.no_relevance:
        relevance_report(settings, args.data, args)
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
