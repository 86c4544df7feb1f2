"""What the Prometheus instrumentation costs one search, in one process and with gunicorn's shared files.

    .venv/bin/python bench/metrics_overhead.py [--rounds 100000]

Two measurements per mode (single process; `PROMETHEUS_MULTIPROC_DIR`, re-run in a child
process because prometheus_client picks its value store at import):

- `recording`: the calls one hybrid search makes in retrieval (four timed steps, one query-vector
  lookup, two leg outcomes), without any search work;
- `flask hooks`: the before/after-request hooks of one matched GET /search answered 200 (clock,
  route and method labels, error-code check, the request's histogram and counter).

Each is the best of 5 runs: on a shared machine the minimum is the cost, the rest is other load.

Both are compared with a 15 ms search. Needs no Elasticsearch and no model.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SEARCH_SECONDS = 0.015


def best_of(call: Callable[[], None], rounds: int) -> float:
    """Seconds per call, the best of 5 runs (the machine is shared: the minimum is the cost)."""
    for _ in range(1000):
        call()
    return min(timeit.repeat(call, number=rounds, repeat=5)) / rounds


def recording(rounds: int) -> float:
    """Seconds per search of the recording calls alone."""
    from search_api.core import metrics

    def one() -> None:
        for step in ("keyword", "semantic_encode", "semantic_search", "page"):
            with metrics.timed(step):
                pass
        metrics.query_vector("miss")
        metrics.leg_outcome("semantic", "ok")
        metrics.leg_outcome("keyword", "ok")

    return best_of(one, rounds)


def flask_hooks(rounds: int) -> float:
    """Seconds per request of the before/after-request hooks on a matched GET /search answered 200."""
    from flask import Flask, Response, request

    from search_api.http import metrics as http_metrics

    app = Flask(__name__)
    app.add_url_rule("/search", "search", lambda: "ok")
    answer = Response("ok")
    with app.test_request_context("/search"):
        request.url_rule = app.url_map.bind("localhost").match("/search", return_rule=True)[0]

        def one() -> None:
            http_metrics._start()
            http_metrics._record(answer)

        return best_of(one, rounds)


def report(mode: str, rounds: int) -> None:
    calls = recording(rounds)
    hooks = flask_hooks(rounds)
    for name, seconds in (("recording", calls), ("flask hooks", hooks), ("total", calls + hooks)):
        print(f"{mode:13} {name:12} {seconds * 1e6:7.1f} µs per search = {seconds / SEARCH_SECONDS:7.3%} of 15 ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=100_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        report("multiprocess", args.rounds)
        return 0
    report("one process", args.rounds)
    with tempfile.TemporaryDirectory() as directory:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": directory}
        return subprocess.run([sys.executable, __file__, "--rounds", str(args.rounds), "--child"], env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
