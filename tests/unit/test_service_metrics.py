"""The Prometheus instrumentation: what each recording call adds, and the scrape's derived lag."""

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
from flask import Response
from prometheus_client.metrics_core import GaugeMetricFamily

from indexer.core.errors import ConfigError
from search_api.core import metrics, metrics_export
from search_api.core.metrics import REGISTRY
from search_api.http.metrics import error_code
from search_api.retrieval.hybrid import count_legs
from search_api.retrieval.legs import LegState, LegStatus, Retrieved
from search_api.retrieval.query_vectors import QueryVectors
from search_api.retrieval.replica import Loaded, VectorReplica
from tests.fakes import HashEmbedder
from tests.waiting import poll


def value(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_timed_records_the_step_even_when_it_raises():
    before = value("storesearch_search_step_duration_seconds_count", step="keyword")
    slow_before = value("storesearch_search_step_duration_seconds_bucket", step="keyword", le="0.0075")
    with metrics.timed("keyword"):
        time.sleep(0.01)  # the step being timed: it must land above the 7.5 ms bucket
    with pytest.raises(RuntimeError), metrics.timed("keyword"):
        raise RuntimeError("engine down")
    assert value("storesearch_search_step_duration_seconds_count", step="keyword") == before + 2
    # the 10 ms step is above the 7.5 ms bucket, the failed one (microseconds) below it
    assert value("storesearch_search_step_duration_seconds_bucket", step="keyword", le="0.0075") == slow_before + 1
    with pytest.raises(KeyError):
        metrics.timed("kewyord")


@pytest.mark.parametrize(("status", "outcome"), [
    (LegStatus(LegState.OK), "ok"), (LegStatus(LegState.PERSONALISED), "ok"), (LegStatus(LegState.NO_HISTORY), "ok"),
    (LegStatus.skip("model does not cover zh"), "skipped"), (LegStatus.failure("timeout"), "failed"),
])
def test_leg_status_outcome(status, outcome):
    assert status.outcome == outcome


def test_count_legs_counts_every_requested_leg():
    retrieved = Retrieved({"semantic": LegStatus.skip("model does not cover zh"), "keyword": LegStatus.failure("x")},
                          {})
    before = {key: value("storesearch_leg_outcomes_total", leg=key[0], outcome=key[1])
              for key in (("semantic", "skipped"), ("keyword", "failed"), ("keyword", "ok"))}
    count_legs(retrieved)
    after = {key: value("storesearch_leg_outcomes_total", leg=key[0], outcome=key[1]) for key in before}
    assert {k: after[k] - before[k] for k in before} == {("semantic", "skipped"): 1, ("keyword", "failed"): 1,
                                                        ("keyword", "ok"): 0}


def test_query_vector_lookups_hit_miss_and_coalesced():
    gate = threading.Event()

    class SlowEmbedder(HashEmbedder):
        def embed_query(self, text):
            gate.wait(5)
            return super().embed_query(text)

    qv = QueryVectors(SlowEmbedder(4))
    before = {r: value("storesearch_query_vector_lookups_total", result=r) for r in metrics.LOOKUPS}
    first = threading.Thread(target=qv.embed_query, args=("pillow",))
    first.start()
    poll(lambda: qv._pending, within=10, what="the first caller owning the encode", every=0.001)
    second = threading.Thread(target=qv.embed_query, args=("pillow",))
    second.start()
    poll(lambda: value("storesearch_query_vector_lookups_total", result="coalesced") > before["coalesced"], within=10,
         what="the second caller waiting on the first one's encode", every=0.001)
    gate.set()
    first.join()
    second.join()
    qv.embed_query("pillow")
    after = {r: value("storesearch_query_vector_lookups_total", result=r) for r in metrics.LOOKUPS}
    assert {r: after[r] - before[r] for r in after} == {"hit": 1, "miss": 1, "coalesced": 1}


def test_events_written_counts_each_outcome():
    before = (value("storesearch_events_total", outcome="accepted"), value("storesearch_events_total",
                                                                           outcome="rejected"),
              value("storesearch_events_unknown_products_total"))
    metrics.events_written(5, 2, 1)
    after = (value("storesearch_events_total", outcome="accepted"), value("storesearch_events_total",
                                                                          outcome="rejected"),
             value("storesearch_events_unknown_products_total"))
    assert tuple(a - b for a, b in zip(after, before, strict=True)) == (5, 2, 1)


class FakeSnapshot:
    seq = 41
    count = 3


def test_replica_reports_the_version_it_serves_and_drops_the_old_one(monkeypatch):
    settings = SimpleNamespace(alias_check_seconds=0.0, products_alias="unit-products", sync_seconds=0.0)
    targets = iter(["unit-products-v1", "unit-products-v2", None])
    monkeypatch.setattr("search_api.retrieval.replica.alias_target", lambda es, alias: next(targets))
    replica = VectorReplica(settings, es=None)
    monkeypatch.setattr(replica, "_load", lambda index: Loaded(index, FakeSnapshot()))
    replica.current()
    assert value("storesearch_index_version_info", version="unit-products-v1") == 1
    assert value("storesearch_replica_applied_seq", alias="unit-products") == 41
    replica.current()
    assert value("storesearch_index_version_info", version="unit-products-v2") == 1
    assert REGISTRY.get_sample_value("storesearch_index_version_info", {"version": "unit-products-v1"}) is None
    replica.current()  # the alias is gone: no version is served
    assert REGISTRY.get_sample_value("storesearch_index_version_info", {"version": "unit-products-v2"}) is None


def test_replica_sync_records_seq_changes_and_time(monkeypatch):
    class Snapshot(FakeSnapshot):
        def apply(self, upserts, removals, last):
            self.seq = last

    change = SimpleNamespace(id="p1", seq=45, vector=np.ones(2, dtype=np.float32), tombstone=False)
    settings = SimpleNamespace(alias_check_seconds=60.0, products_alias="unit-sync", sync_seconds=0.0)
    replica = VectorReplica(settings, es=None)
    replica._loaded, replica._checked_at = Loaded("unit-sync-v1", Snapshot()), time.monotonic()
    monkeypatch.setattr("search_api.retrieval.replica.changes_since", lambda es, index, seq: iter([change]))
    changes_before = value("storesearch_replica_changes_applied_total")
    assert replica.sync() == 1
    assert value("storesearch_replica_applied_seq", alias="unit-sync") == 45
    assert value("storesearch_replica_changes_applied_total") == changes_before + 1
    assert time.time() - value("storesearch_replica_last_sync_timestamp_seconds", alias="unit-sync") < 5


def test_lag_is_the_stalest_workers_and_ignores_workers_that_never_synced():
    family = metrics_export.lag_family({"a": 100.0, "b": 130.0}, now=160.0)
    assert {s.labels["alias"]: s.value for s in family.samples} == {"a": 60.0, "b": 30.0}

    class Source:
        def collect(self):
            gauge = GaugeMetricFamily(metrics.LAST_SYNC, "", labels=["alias", "pid"])
            for pid, stamp in (("1", 0.0), ("2", time.time() - 30), ("3", time.time() - 5)):
                gauge.add_metric(["a", pid], stamp)
            yield gauge

    families = {f.name: f for f in metrics_export._Scrape(Source(), ()).collect()}
    (lag,) = families[metrics_export.LAG].samples
    assert 29 < lag.value < 40  # worker 2's 30 s, not worker 1's "never" (0) nor worker 3's 5 s


@pytest.mark.parametrize(("status", "body", "code"), [
    (200, {"results": []}, ""),
    (404, {"error": {"code": "not_found", "message": "x"}}, "not_found"),
    (503, {"error": {"code": "unavailable", "message": "x"}}, "unavailable"),
    (503, {"ready": False}, ""),
    (400, {"error": {"code": "Evil Code With Spaces", "message": "x"}}, ""),
])
def test_error_code_label_is_read_from_the_error_body(status, body, code):
    import json

    assert error_code(Response(json.dumps(body, separators=(",", ":")), status=status,
                               mimetype="application/json")) == code


def test_single_process_scrape_is_text_with_process_metrics(monkeypatch):
    monkeypatch.delenv(metrics_export.MULTIPROC_ENV, raising=False)
    text = metrics_export.scrape().decode()
    assert "# TYPE storesearch_http_requests_total counter" in text
    assert "process_resident_memory_bytes" in text and "_created" not in text
    metrics_export.check_multiprocess()  # nothing asked for: nothing to refuse
    metrics_export.mark_worker_dead(12345)  # a no-op without multiprocess mode


def test_multiprocess_misconfiguration_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv(metrics_export.MULTIPROC_ENV, str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="not a directory"):
        metrics_export.check_multiprocess()
    monkeypatch.setenv(metrics_export.MULTIPROC_ENV, str(tmp_path))
    # this process imported prometheus_client without the variable: its values are not in files
    with pytest.raises(ConfigError, match="set after prometheus_client was imported"):
        metrics_export.check_multiprocess()


def test_clear_multiprocess_dir_removes_only_metric_files(monkeypatch, tmp_path):
    (tmp_path / "counter_1.db").write_bytes(b"x")
    (tmp_path / "gauge_liveall_1.db").write_bytes(b"x")
    (tmp_path / "keep.txt").write_text("x")
    monkeypatch.setenv(metrics_export.MULTIPROC_ENV, str(tmp_path))
    assert metrics_export.clear_multiprocess_dir() == 2
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
