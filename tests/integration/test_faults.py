"""Failure injection on the real stack: killed indexer, Elasticsearch stopped mid-build, swaps under load.

After every fault: nothing lost or duplicated (ES count = FAISS count = expected, id sets equal)
and the live alias unchanged until a verified swap.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from elasticsearch import helpers

from indexer.core.es import make_client
from indexer.format.vectors import VectorIndex
from indexer.sample import generate
from indexer.store.records import all_records
from indexer.store.versions import alias_target
from search_api.core.settings import ApiSettings
from search_api.http.app import create_app
from search_api.retrieval.runtime import Runtime
from tests.es_node import LocalNode
from tests.waiting import poll

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SIZE = 2500


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    return generate.write(tmp_path_factory.mktemp("faults"), SIZE, seed=11)


def _env(settings: ApiSettings) -> dict[str, str]:
    return {**os.environ, "ES_URL": settings.es_url, "STORESEARCH_PREFIX": settings.prefix,
            "STORESEARCH_VECTORS_DIR": str(settings.vectors_dir), "STORESEARCH_CACHE_DIR": str(settings.cache_dir),
            "STORESEARCH_LOCK_STALE_SECONDS": str(settings.lock_stale_seconds)}


def _indexer(settings: ApiSettings, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "indexer.cli", *args], env=_env(settings), cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_checkpoint(es, settings, proc, batches: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"build ended early: {proc.communicate()}"
        try:
            records = all_records(es, settings)
        except Exception:
            records = []
        if records and records[0].batches_done >= batches:
            return
        time.sleep(0.2)
    pytest.fail("the build never reached its checkpoint")


def _assert_consistent(es, settings, index: str, expected: int) -> None:
    live_ids = [h["_id"] for h in helpers.scan(es, index=index, _source=False)]
    assert len(live_ids) == len(set(live_ids)) == expected
    with_vectors = {h["_id"] for h in helpers.scan(es, index=index, _source=False,
                                                  query={"query": {"term": {"has_vector": True}}})}
    snapshot = VectorIndex.load(settings.vectors_dir / index)
    assert snapshot.count == len(with_vectors) and set(snapshot.ids) == with_vectors


def test_killed_indexer_resumes_with_exact_counts(es, isolated, catalog):
    proc = _indexer(isolated, "build", str(catalog["products"]), "--batch-size", "100", "--no-progress")
    _wait_for_checkpoint(es, isolated, proc, batches=3)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert alias_target(es, isolated.products_alias) is None  # nothing went live
    record = all_records(es, isolated)[0]
    assert record.state == "running" and 3 <= record.batches_done < SIZE // 100 - 1
    es.indices.refresh(index=record.products_index)  # the load runs without refreshes
    written_before = es.count(index=record.products_index)["count"]
    assert 0 < written_before < SIZE

    done = _indexer(isolated, "build", "--resume", "latest", "--no-progress")
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert "(resumed)" in out and f"{SIZE} indexed of {SIZE} rows" in out
    assert alias_target(es, isolated.products_alias) == record.products_index
    _assert_consistent(es, isolated, record.products_index, SIZE)
    assert all_records(es, isolated)[0].state == "live"


def test_killed_reusing_rebuild_resumes_with_exact_counts(es, isolated, catalog, tmp_path):
    first = _indexer(isolated, "build", str(catalog["products"]), "--no-progress")
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    live = alias_target(es, isolated.products_alias)
    rows = catalog["products"].read_text(encoding="utf-8").splitlines()
    changed = [row.replace('"title": "', '"title": "v2 ', 1) for row in rows[:2000]] + rows[2000:-100]
    assert all('"title": "v2 ' in row for row in changed[:2000])
    source = tmp_path / "v2.jsonl"
    source.write_text("\n".join(changed) + "\n", encoding="utf-8")

    proc = _indexer(isolated, "build", str(source), "--batch-size", "100", "--no-progress")
    _wait_for_checkpoint(es, isolated, proc, batches=3)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert alias_target(es, isolated.products_alias) == live  # the clone never went live
    record = all_records(es, isolated)[0]
    assert record.base == live and record.state == "running"

    done = _indexer(isolated, "build", "--resume", "latest", "--no-progress")
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert "(resumed)" in out and f"{SIZE - 100} indexed of {SIZE - 100} rows" in out
    assert alias_target(es, isolated.products_alias) == record.products_index
    _assert_consistent(es, isolated, record.products_index, SIZE - 100)
    titles = [h["_source"]["title"] for h in helpers.scan(es, index=record.products_index, _source=["title"])]
    assert sum(t.startswith("v2 ") for t in titles) == 2000
    got = es.indices.get_settings(index=live, name="index.blocks.write").body
    assert got.get(live, {}).get("settings", {}).get("index", {}).get("blocks", {}).get("write") in (None, "false")


@pytest.fixture
def second_node(isolated):
    """A node of its own on a free port (`tests.es_node`), so stopping it disturbs no other test or run."""
    node = LocalNode()
    node.run("start")
    settings = isolated.with_(es_url=node.url)
    try:
        yield settings, node.run
    finally:
        node.close()


def test_elasticsearch_stopped_mid_build_then_resume(catalog, second_node):
    settings, node = second_node
    es = make_client(settings)
    proc = _indexer(settings, "build", str(catalog["products"]), "--batch-size", "100", "--no-progress")
    _wait_for_checkpoint(es, settings, proc, batches=2)
    node("stop")
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 1
    message = err.strip().splitlines()[-1]
    assert message.startswith("indexer: error:") and "Elasticsearch unreachable" in message
    node("start")
    es = make_client(settings)
    assert alias_target(es, settings.products_alias) is None
    done = _indexer(settings, "build", "--resume", "latest", "--no-progress")
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    live = alias_target(es, settings.products_alias)
    assert live and f"{SIZE} indexed of {SIZE} rows" in out
    _assert_consistent(es, settings, live, SIZE)
    es.indices.delete(index=f"{settings.prefix}-*", ignore_unavailable=True, allow_no_indices=True)


def test_search_answers_through_a_rebuild_and_swap(es, isolated, model, catalog, tmp_path):
    first = _indexer(isolated, "build", str(catalog["products"]), "--no-progress")
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    before = alias_target(es, isolated.products_alias)
    client = create_app(runtime=Runtime(isolated, embedder=model, es=es)).test_client()
    statuses: list[int] = []
    versions: set[str] = set()
    stop = threading.Event()

    def load() -> None:
        queries = ["pillow", "抱枕", "wireless earbuds", "skincare serum", "snacks"]
        i = 0
        while not stop.is_set():
            response = client.get(f"/search?q={queries[i % len(queries)]}&size=5")
            statuses.append(response.status_code)
            if response.status_code == 200:
                versions.add(response.get_json()["meta"]["index_version"])
            i += 1

    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    rebuild = _indexer(isolated, "build", str(catalog["products"]), "--no-progress")
    try:
        _, err = rebuild.communicate(timeout=300)
        assert rebuild.returncode == 0, err
        after = alias_target(es, isolated.products_alias)
        poll(lambda: after in versions, within=60, what="an answer from the new version")
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert after != before and before in versions
    assert statuses and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
