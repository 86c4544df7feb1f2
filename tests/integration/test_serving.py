"""`search-api serve` with gunicorn workers: every worker answers, follows live changes, is warmed up.

One small catalog is built for the session (`serving_catalog`); servers run as subprocesses on free loopback ports.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from search_api.http.warmup import warm_up
from search_api.retrieval.runtime import Runtime
from tests.integration.conftest import SERVING_SYNC_S
from tests.serving import REPO, Served, children, raw, server_env, sync_env

pytestmark = pytest.mark.integration

MARGIN_S = 5.0
"""Slack over the sync interval for a busy shared test machine (a worker that never syncs still fails)."""
LEGS = ("keyword", "semantic", "hybrid", "brand zone")


@pytest.fixture(scope="module")
def served(serving_catalog, tmp_path_factory) -> Iterator[Served]:
    server = Served(serving_catalog, tmp_path_factory.mktemp("log") / "serve.log", "--workers", "2",
                    **sync_env(serving_catalog))
    yield server
    server.stop()


def test_both_workers_answer_and_each_warmed_up_first(served):
    with served.pinned(2) as workers:
        assert set(workers) == children(served.proc.pid)
        for conn in workers.values():
            status, body = conn.get("/search", q="memory foam pillow")
            assert status == 200 and body["results"]
            health = conn.get("/healthz")[1]
            assert health["status"] == "ok"
            assert health["vector_backend"] == "elasticsearch" or health["replica"]["vectors"] >= 300
    warmed = warmed_legs(served.output())
    assert len(warmed) == 2 and all(legs == list(LEGS) for legs in warmed), served.output()


def warmed_legs(log: str) -> list[list[str]]:
    """The legs each process's warm-up searched (one log line per process)."""
    return [[leg.rsplit(" ", 2)[0] for leg in line.split(", ")]
            for line in re.findall(r"warmed up in \d+ ms: (.*)", log)]


def test_waitress_serves_from_one_warmed_process(serving_catalog, tmp_path):
    server = Served(serving_catalog, tmp_path / "serve.log", "--server", "waitress", **sync_env(serving_catalog))
    try:
        assert server.get("/healthz")[1]["pid"] == server.proc.pid and not children(server.proc.pid)
        status, body = server.get("/search", q="memory foam pillow")
        assert status == 200 and body["results"]
        assert warmed_legs(server.output()) == [list(LEGS)], server.output()
    finally:
        server.stop()


def test_a_live_upsert_reaches_every_worker_within_the_sync_interval(served, serving_catalog, tmp_path):
    changes = tmp_path / "changes.jsonl"
    changes.write_text(json.dumps({"id": "SERVE-NEW-1", "title": "Zephyrine quokka night lantern"}) + "\n")
    done = subprocess.run([sys.executable, "-m", "indexer.cli", "upsert", str(changes)], env=server_env(serving_catalog),
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    written = time.monotonic()
    seen: dict[int, float] = {}
    with served.pinned(2) as workers:
        while len(seen) < len(workers) and time.monotonic() - written < SERVING_SYNC_S + MARGIN_S:
            for pid, conn in workers.items():
                if pid not in seen:
                    body = conn.get("/search", q="zephyrine quokka night lantern", mode="semantic", size=5)[1]
                    if "SERVE-NEW-1" in [hit["id"] for hit in body["results"]]:
                        seen[pid] = time.monotonic() - written
            time.sleep(0.1)
        assert set(seen) == set(workers), f"semantic leg of workers {set(workers) - set(seen)} never saw the upsert"
        for conn in workers.values():  # FAISS caught up through its change log; kNN has none to apply
            health = conn.get("/healthz")[1]
            assert health["vector_backend"] == "elasticsearch" or health["replica"]["changes_applied"] >= 1


@pytest.mark.parametrize(("request_line", "message"), [
    (b"GET /search?q=\xff\xfe HTTP/1.1", "Bad Request: Invalid Request Line"),
    (b"GET /users/\xc3/profile HTTP/1.1", "Bad Request: Invalid Request Line"),
    (b"G\xffT /search HTTP/1.1", "Bad Request: Invalid Method"),
])
def test_gunicorn_answers_raw_non_utf8_request_lines_with_a_json_400(served, request_line, message):
    status, headers, body = raw(served.port, request_line + b"\r\nHost: x\r\n\r\n")
    assert " 400 " in status
    assert headers["content-type"] == "application/json" and headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"].startswith("default-src 'none'")
    error = json.loads(body)["error"]
    assert error == {"code": "bad_request", "message": message}  # the client's bytes are not echoed


def test_percent_encoded_non_utf8_reaches_the_app_through_gunicorn(served):
    status, headers, body = raw(served.port, b"GET /users/%FF%FE/profile HTTP/1.1\r\nHost: x\r\n\r\n")
    assert " 401 " in status and json.loads(body)["error"]["code"] == "unauthorized"


def test_load_shared_starts_nothing_a_fork_would_copy(serving_catalog, model):
    rt = Runtime(serving_catalog, embedder=model)
    threads = threading.active_count()
    live = rt.load_shared()
    assert live is not None and live.vectors is not None
    assert live.backend == "elasticsearch" or live.vectors.count >= 300  # kNN loads no snapshot
    assert threading.active_count() == threads
    assert not {"es", "pool", "zone_pool", "profiles"} & set(rt.__dict__)
    rt.start_process()  # what a worker does after the fork: its own client, pools and sync thread
    try:
        syncing = 1 if live.backend == "faiss" else 0  # kNN has no sync thread
        assert threading.active_count() == threads + syncing
        assert rt.replica.current() is live
        timings = warm_up(rt)
        assert list(timings) == list(LEGS)
        assert threading.active_count() > threads + syncing  # the leg and zone pools answered the warm-up
    finally:
        rt.close()
