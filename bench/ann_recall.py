"""Recall of the live FAISS snapshot (IVF above 20k vectors) against exact search.

    .venv/bin/python bench/ann_recall.py [--prefix bench]

Encodes the latency benchmark's English queries, searches the snapshot and an exact flat index
built from the very same vectors, and prints recall@10 and recall@100.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import faiss
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.latency import queries  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402
from search_api.retrieval.runtime import Runtime  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", default="bench")
    args = parser.parse_args()
    rt = Runtime(ApiSettings.from_env().with_(prefix=args.prefix))
    live = rt.replica.current()
    if live is None or live.vectors is None:
        print("ann_recall: no live snapshot", file=sys.stderr)
        return 2
    vectors = live.vectors
    matrix = np.vstack([vectors.vector(pid) for pid in vectors.ids])
    exact = faiss.IndexFlatIP(matrix.shape[1])
    exact.add(matrix)
    texts = [q for q in dict.fromkeys(queries(400)) if rt.embedder.readable(q)]
    qv = np.vstack([rt.embedder.embed_query(rt.embedder.readable(q)) for q in texts])
    _, truth = exact.search(qv, 100)
    r10 = r100 = 0.0
    for q, rows in zip(qv, truth, strict=True):
        got = [pid for pid, _ in vectors.search(q, 100)]
        want = [vectors.ids[i] for i in rows]
        r10 += len(set(got[:10]) & set(want[:10])) / 10
        r100 += len(set(got) & set(want)) / 100
    n = len(texts)
    print(f"{vectors.manifest.factory}, {vectors.count} vectors, {n} distinct queries: "
          f"recall@10 {r10 / n:.3f}, recall@100 {r100 / n:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
