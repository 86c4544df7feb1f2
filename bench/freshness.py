"""Upsert-to-visible latency in a running search API, against 2 × the replica's sync interval.

    .venv/bin/python bench/freshness.py [--prefix bench] [--rounds 10] [--sync-seconds 2]

Serves the live version of `--prefix` (build it first, e.g. bench/indexing.py) with a real
HTTP server in this process, then repeatedly upserts a product with a unique English title
through `indexer.changes.upsert` and polls `/search` until it is the top hit of both the keyword
and the semantic leg; then deletes it and polls until neither leg returns it. Prints the
latencies and their ratio to the sync interval. Needs ES_URL.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.build.changes import delete, upsert  # noqa: E402
from indexer.core.es import make_client  # noqa: E402
from indexer.embedding.encoders import load_embedder  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402

WORDS = ["amber", "basalt", "cobalt", "dune", "ember", "fjord", "glacier", "harbor", "indigo", "juniper",
         "kelp", "lagoon", "meadow", "nebula", "orchid", "prairie", "quartz", "reef", "sierra", "tundra"]


def _top(base: str, q: str, mode: str) -> list[str]:
    url = f"{base}/search?{urllib.parse.urlencode({'q': q, 'mode': mode, 'size': 3})}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return [r["id"] for r in json.load(response)["results"]]


def _wait(predicate, timeout: float) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    while not predicate():
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"not visible after {timeout} s")
        time.sleep(0.05)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--sync-seconds", type=float, default=2.0)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    settings = ApiSettings.from_env().with_(prefix=args.prefix, sync_seconds=args.sync_seconds,
                                         alias_check_seconds=args.sync_seconds)
    from waitress.server import create_server

    from search_api.http.app import create_app

    app = create_app(settings)
    runtime = app.extensions["storesearch"]
    runtime.embedder  # noqa: B018  load the model before timing
    if runtime.replica.current() is None:
        raise SystemExit(f"no live version under prefix {args.prefix!r}: build one first")
    server = create_server(app, host="127.0.0.1", port=args.port, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{args.port}"
    es = make_client(settings)
    model = load_embedder(settings)
    visible: list[float] = []
    gone: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            words = " ".join(WORDS[(round_ * 7 + k) % len(WORDS)] for k in range(3))
            pid = f"fresh-{time.time_ns()}"
            title = f"{words} zzyzx{round_} pillow"
            path = Path(tmp) / f"{pid}.jsonl"
            path.write_text(json.dumps({"id": pid, "title": title}) + "\n", encoding="utf-8")
            time.sleep(round_ % 4 * args.sync_seconds / 4)  # spread writes over the sync cycle
            started = time.perf_counter()
            upsert(settings, es, model, [path])
            write_s = time.perf_counter() - started
            seen = _wait(lambda q=title, p=pid: _top(base, q, "keyword")[:1] == [p]
                         and _top(base, q, "semantic")[:1] == [p], timeout=10 * args.sync_seconds)
            visible.append(write_s + seen)
            started = time.perf_counter()
            delete(settings, es, [pid])
            write_s = time.perf_counter() - started
            dropped = _wait(lambda q=title, p=pid: p not in _top(base, q, "keyword")
                            and p not in _top(base, q, "semantic"), timeout=10 * args.sync_seconds)
            gone.append(write_s + dropped)
    server.close()
    bound = 2 * args.sync_seconds
    for name, values in (("upsert → visible in both legs", visible),
                         ("delete → gone from both legs", gone)):
        print(f"{name:<32} p50 {statistics.median(values):5.2f} s  max {max(values):5.2f} s  "
              f"(bar: ≤ {bound:.1f} s = 2 × sync {args.sync_seconds:.1f} s; "
              f"max/bar {max(values) / bound:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
