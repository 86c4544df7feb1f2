"""Failure injection on the real stack: killed indexer, Elasticsearch stopped mid-build, swaps under load.

After every fault: nothing lost or duplicated (ES count = FAISS count = expected, id sets equal)
and the live alias unchanged until a verified swap.
"""

from __future__ import annotations

import signal
import threading
import time

import pytest
from elasticsearch import helpers

from indexer.core.es import make_client
from indexer.format.vectors import VectorIndex
from indexer.sample import generate
from indexer.store import state
from indexer.store.locks import BUILD_LOCK
from indexer.store.records import all_records
from indexer.store.versions import alias_target
from search_api.http.app import create_app
from search_api.retrieval.runtime import Runtime
from tests import commands
from tests.es_node import LocalNode

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SIZE = 2500


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    return generate.write(tmp_path_factory.mktemp("faults"), SIZE, seed=11)


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


def _build(settings, *args: str):
    return commands.start(settings, "indexer", "build", *args, "--no-progress")


def _resumed(settings, expected: int) -> str:
    """`indexer build --resume latest` run to its end; its stdout, checked to report `expected` products."""
    out = commands.succeeded(commands.finish(_build(settings, "--resume", "latest")))
    assert "(resumed)" in out and f"{expected} indexed of {expected} rows" in out
    return out


def test_killed_indexer_resumes_with_exact_counts(es, isolated, catalog):
    proc = _build(isolated, str(catalog["products"]), "--batch-size", "100")
    _wait_for_checkpoint(es, isolated, proc, batches=3)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert alias_target(es, isolated.products_alias) is None  # nothing went live
    record = all_records(es, isolated)[0]
    assert record.state == "running" and 3 <= record.batches_done < SIZE // 100 - 1
    es.indices.refresh(index=record.products_index)  # the load runs without refreshes
    written_before = es.count(index=record.products_index)["count"]
    assert 0 < written_before < SIZE

    _resumed(isolated, SIZE)
    assert alias_target(es, isolated.products_alias) == record.products_index
    _assert_consistent(es, isolated, record.products_index, SIZE)
    assert all_records(es, isolated)[0].state == "live"


def test_ctrl_c_mid_build_exits_130_and_the_build_resumes(es, isolated, catalog):
    proc = _build(isolated, str(catalog["products"]), "--batch-size", "100")
    _wait_for_checkpoint(es, isolated, proc, batches=3)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C in a terminal sends
    done = commands.finish(proc, timeout=120)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "indexer: interrupted; the live version is unchanged"
    assert alias_target(es, isolated.products_alias) is None
    record = all_records(es, isolated)[0]
    assert record.state == "interrupted" and record.error.startswith("KeyboardInterrupt")
    assert 3 <= record.batches_done < SIZE // 100 - 1 and es.indices.exists(index=record.products_index)
    assert not state.read(es, isolated, BUILD_LOCK).exists  # released on the way out, not left to go stale

    _resumed(isolated, SIZE)
    assert alias_target(es, isolated.products_alias) == record.products_index
    _assert_consistent(es, isolated, record.products_index, SIZE)
    assert all_records(es, isolated)[0].state == "live"


def test_killed_reusing_rebuild_resumes_with_exact_counts(es, isolated, catalog, tmp_path):
    commands.succeeded(commands.finish(_build(isolated, str(catalog["products"]))))
    live = alias_target(es, isolated.products_alias)
    rows = catalog["products"].read_text(encoding="utf-8").splitlines()
    changed = [row.replace('"title": "', '"title": "v2 ', 1) for row in rows[:2000]] + rows[2000:-100]
    assert all('"title": "v2 ' in row for row in changed[:2000])
    source = tmp_path / "v2.jsonl"
    source.write_text("\n".join(changed) + "\n", encoding="utf-8")

    proc = _build(isolated, str(source), "--batch-size", "100")
    _wait_for_checkpoint(es, isolated, proc, batches=3)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert alias_target(es, isolated.products_alias) == live  # the clone never went live
    record = all_records(es, isolated)[0]
    assert record.base == live and record.state == "running"

    _resumed(isolated, SIZE - 100)
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
    proc = _build(settings, str(catalog["products"]), "--batch-size", "100")
    _wait_for_checkpoint(es, settings, proc, batches=2)
    node("stop")
    stopped = commands.finish(proc, timeout=180)
    assert stopped.returncode == 1
    message = stopped.stderr.strip().splitlines()[-1]
    assert message.startswith("indexer: error:") and "Elasticsearch unreachable" in message
    node("start")
    es = make_client(settings)
    assert alias_target(es, settings.products_alias) is None
    _resumed(settings, SIZE)
    live = alias_target(es, settings.products_alias)
    assert live
    _assert_consistent(es, settings, live, SIZE)
    es.indices.delete(index=f"{settings.prefix}-*", ignore_unavailable=True, allow_no_indices=True)


AFTER_SWAP_ANSWERS = 10
"""Answers from the new version the load must have seen before it stops."""


def test_search_answers_through_a_rebuild_and_swap(es, isolated, model, catalog, tmp_path):
    commands.succeeded(commands.finish(_build(isolated, str(catalog["products"]))))
    before = alias_target(es, isolated.products_alias)
    client = create_app(runtime=Runtime(isolated, embedder=model, es=es)).test_client()
    statuses: list[int] = []
    versions: list[str] = []
    answered = threading.Condition()
    stop = threading.Event()

    def load() -> None:
        queries = ["pillow", "抱枕", "wireless earbuds", "skincare serum", "snacks"]
        i = 0
        while not stop.is_set():
            response = client.get(f"/search?q={queries[i % len(queries)]}&size=5")
            with answered:
                statuses.append(response.status_code)
                if response.status_code == 200:
                    versions.append(response.get_json()["meta"]["index_version"])
                answered.notify_all()
            i += 1

    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        commands.succeeded(commands.finish(_build(isolated, str(catalog["products"]))))
        after = alias_target(es, isolated.products_alias)
        with answered:  # a few answers from the new version, however slow the machine
            assert answered.wait_for(lambda: versions.count(after) >= AFTER_SWAP_ANSWERS, timeout=120), \
                f"{versions.count(after)} answers from {after} within 120 s of the swap"
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert after != before and before in versions
    assert statuses and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
