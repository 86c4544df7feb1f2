"""Multiprocess metrics as gunicorn runs them: the app preloaded in a master, workers forked from it.

The scenario runs in a fresh interpreter (prometheus_client picks its value store at import, from
PROMETHEUS_MULTIPROC_DIR), and prints the scrapes for the assertions here.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]

SCENARIO = textwrap.dedent("""
    import json, os, time
    from search_api.core import metrics, metrics_export
    from search_api.core.settings import ApiSettings
    from search_api.http.app import create_app

    metrics_export.clear_multiprocess_dir()
    app = create_app(ApiSettings(es_url="http://127.0.0.1:1", sync_seconds=0))  # the preloaded app
    workers = []
    for n, versions in ((2, ["v1", "v2"]), (3, ["v1"])):
        pid = os.fork()
        if pid == 0:  # a worker: n unknown routes, one search step, a replica that synced
            client = app.test_client()
            for _ in range(n):
                client.get("/nowhere")
            with metrics.timed("keyword"):
                pass
            previous = None
            for version in versions:
                metrics.replica_serves(version, previous)
                previous = version
            metrics.replica_synced("products", 10 * n, n, time.time() - 60 * n)
            os._exit(0)
        workers.append(pid)
    for pid in workers:
        os.waitpid(pid, 0)
    scrape = lambda: app.test_client().get("/metrics").get_data(as_text=True)
    both = scrape()
    metrics_export.mark_worker_dead(workers[1])  # gunicorn's child_exit hook
    print(json.dumps({"workers": workers, "both": both, "after_exit": scrape()}))
""")


def samples(text):
    return [(s.name, s.labels, s.value) for f in text_string_to_metric_families(text) for s in f.samples]


def value(text, name, **labels):
    found = [v for n, ls, v in samples(text) if n == name and all(ls.get(k) == v2 for k, v2 in labels.items())]
    return sum(found) if found else None


def test_one_scrape_sees_every_worker_and_forgets_dead_workers_gauges(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    (tmp_path / "counter_99999.db").write_bytes(b"stale")  # a previous run's file: cleared at start
    done = subprocess.run([sys.executable, "-c", SCENARIO], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.splitlines()[-1])
    first, second = (str(pid) for pid in out["workers"])
    both, after = out["both"], out["after_exit"]

    # counters and histograms: the sum over both workers, also after one of them exited
    for text in (both, after):
        assert value(text, "storesearch_http_requests_total", route="unmatched", status="404", code="not_found") == 5
        assert value(text, "storesearch_http_request_duration_seconds_count", route="unmatched", method="GET") == 5
        assert value(text, "storesearch_search_step_duration_seconds_count", step="keyword") == 2
    # per-worker gauges carry the worker's pid; the dead worker's are gone
    seqs = {ls["pid"]: v for n, ls, v in samples(both) if n == "storesearch_replica_applied_seq"}
    assert seqs == {first: 20.0, second: 30.0}
    assert {ls["pid"] for n, ls, _ in samples(after) if n == "storesearch_replica_applied_seq"} == {first}
    # the lag is the stalest live worker's: 3 × 60 s, then the survivor's 2 × 60 s
    assert 180 <= value(both, "storesearch_replica_lag_seconds", alias="products") < 240
    assert 120 <= value(after, "storesearch_replica_lag_seconds", alias="products") < 180
    # the version gauge: 1 while any live worker serves it
    assert value(both, "storesearch_index_version_info", version="v1") == 1
    assert value(after, "storesearch_index_version_info", version="v1") == 0
    assert value(after, "storesearch_index_version_info", version="v2") == 1
    assert not (tmp_path / "counter_99999.db").exists()
