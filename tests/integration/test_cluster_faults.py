"""A 3-node Elasticsearch cluster of the test's own loses a data node (SIGKILL) under load, then during a build.

Runs `bench/cluster_faults.py`'s scenarios on a cluster started by `scripts/es-local start --nodes 3`
on free loopback ports (one 1 GiB JVM per node) and asserts the issue's bars: with 1 replica
searches keep answering (no failed search, none hung over 2 s, degraded answers only inside the
documented window), every acknowledged upsert is found afterwards, the node rejoins and the
cluster is green again;
a full build that loses a node either completes verified or stops with the live alias untouched
and then resumes to a verified version. Marked `cluster` (select with `-m cluster`, leave out
with `-m 'not cluster'`); skipped, with the reason, where the cluster cannot start (in CI: failed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.cluster_faults import (
    HANG_S,
    build_sample,
    build_while_node_dies,
    cluster_settings,
    drop,
    kill_under_load,
    print_build_fault,
    print_node_fault,
    wait_green,
)
from indexer.core.es import make_client
from search_api.core.settings import ApiSettings
from tests.conftest import need
from tests.es_node import LocalCluster

pytestmark = [pytest.mark.integration, pytest.mark.cluster, pytest.mark.slow]

DEGRADED_WINDOW_S = 15.0
"""Degraded answers may come only this soon after the kill. Measured (bench/cluster_faults.py, the
machine at load average 15-20): none in two runs, keyword-leg timeouts from +1.3 s to +9.3 s in a
third, while the client moved off the dead node and the shards' replicas took over."""


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    local = LocalCluster(3)
    try:
        local.run("start")
    except (RuntimeError, OSError) as exc:
        local.close()
        need(False, f"a 3-node Elasticsearch cluster could not be started with scripts/es-local: {exc}")
    yield local
    local.close()


@pytest.fixture(scope="module")
def built(cluster: LocalCluster, model, tmp_path_factory) -> Iterator[ApiSettings]:  # type: ignore[no-untyped-def]
    """A 1,000-product sample with 3 shards and 1 replica on the cluster, green."""
    root: Path = tmp_path_factory.mktemp("cluster")
    settings = cluster_settings(cluster, root, cache_dir=root / "cache")
    es = make_client(settings)
    wait_green(es, 120)
    build_sample(settings, es, model, root, 1000)
    wait_green(es)
    yield settings
    drop(es, settings.prefix)


def test_searches_and_acknowledged_upserts_survive_a_killed_data_node(cluster, built, model, tmp_path):
    fault = kill_under_load(built, cluster, model, tmp_path, before_s=5, during_s=20, threads=1, pause_s=0.1)
    print_node_fault(fault)  # the bench's table, shown with -s
    after = fault.searches.phase(True)
    assert after, "no search ran after the kill"
    failed = [s for s in after if s.outcome == "failed"]
    assert not failed, f"searches failed after the kill: {failed[:5]}"
    late = [s for s in after if s.outcome == "degraded" and s.at > DEGRADED_WINDOW_S]
    assert not late, f"degraded answers beyond the {DEGRADED_WINDOW_S:.0f} s window: {late[:5]}"
    # 0 searches over 2 s; on a machine so loaded that searches took longer before the kill, none
    # slower than the slowest of those (the kill must add no hang of its own).
    limit = max([HANG_S, *(s.seconds for s in fault.searches.phase(False))])
    hung = [s for s in after if s.seconds > limit]
    assert not hung, f"searches over {limit:.1f} s after the kill: {hung[:5]}"
    assert fault.upserts.acked, "no upsert was acknowledged"
    assert fault.upserts.acked_during_fault, "no upsert was acknowledged while the node was down"
    assert not fault.upserts.lost, f"acknowledged upserts lost: {fault.upserts.lost}"
    assert make_client(built).cluster.health()["status"] == "green"


def test_a_build_losing_a_node_completes_verified_or_stops_and_resumes(cluster, built, tmp_path):
    fault = build_while_node_dies(built, cluster, tmp_path, size=1500)
    print_build_fault(fault)
    assert fault.alias_untouched, f"a failed build moved the alias: {fault.first_tail}"
    assert fault.live_ok, (f"{fault.outcome}: live count {fault.live_count}, catalog {fault.expected}; "
                           f"first run: {fault.first_tail}")
