"""The replica's alias checks during an outage: never on every request, never holding a search up."""

from __future__ import annotations

import threading
import time

import pytest

from indexer.core.errors import EngineError
from search_api.core.settings import ApiSettings
from search_api.retrieval import replica as replica_module
from search_api.retrieval.replica import Loaded, VectorReplica


def loaded_replica(alias_check_seconds: float) -> VectorReplica:
    replica = VectorReplica(ApiSettings(alias_check_seconds=alias_check_seconds, sync_seconds=0), es=None)
    replica._loaded = Loaded("products-v1", None)  # as after a first successful check
    return replica


def test_a_failed_alias_check_serves_the_loaded_version_and_waits_an_interval(monkeypatch):
    calls: list[float] = []

    def down(es, alias):
        calls.append(time.monotonic())
        raise EngineError("resolving alias failed: Elasticsearch unreachable")

    monkeypatch.setattr(replica_module, "alias_target", down)
    replica = loaded_replica(alias_check_seconds=0.2)
    for _ in range(20):
        assert replica.current().index == "products-v1"
    assert len(calls) == 1  # not once per request
    time.sleep(0.2)  # the behaviour under test: the next check is due one interval after the failed one
    replica.current()
    assert len(calls) == 2


def test_while_one_request_checks_the_alias_the_others_serve_the_loaded_version(monkeypatch):
    entered, release = threading.Event(), threading.Event()

    def slow(es, alias):
        entered.set()
        release.wait(5)  # a hung node: the call waits for its timeout
        return "products-v1"

    monkeypatch.setattr(replica_module, "alias_target", slow)
    replica = loaded_replica(alias_check_seconds=0.0)
    checker = threading.Thread(target=replica.current)
    checker.start()
    assert entered.wait(5)
    started = time.monotonic()
    try:
        assert replica.current().index == "products-v1"
        assert time.monotonic() - started < 0.1
    finally:
        release.set()
        checker.join()


def test_without_a_loaded_version_the_failure_is_raised(monkeypatch):
    def down(es, alias):
        raise EngineError("resolving alias failed: Elasticsearch unreachable")

    monkeypatch.setattr(replica_module, "alias_target", down)
    replica = VectorReplica(ApiSettings(sync_seconds=0), es=None)
    with pytest.raises(EngineError):
        replica.current()
