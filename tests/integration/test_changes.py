"""Incremental changes, catch-up replicas, locks, replay, rollback and pruning on the real stack."""

from __future__ import annotations

import json
import time

import pytest
from elasticsearch import helpers

from indexer.build.changes import delete, upsert
from indexer.build.pipeline import BuildOptions, build
from indexer.core.errors import BuildError, LockedError
from indexer.format.vectors import VectorIndex
from indexer.store import lifecycle, state
from indexer.store.locks import BUILD_LOCK, WRITE_LOCK, Lock
from indexer.store.records import all_records
from indexer.store.versions import alias_target
from search_api.http.app import create_app
from search_api.retrieval.runtime import Runtime

pytestmark = pytest.mark.integration


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


PILLOWS = [{"id": f"p{i}", "title": f"memory foam pillow model {i}", "brand": "Dreamy"} for i in range(30)]
EARBUDS = [{"id": f"e{i}", "title": f"wireless earbuds model {i}", "brand": "Sonic"} for i in range(30)]


def _live_ids(es, index):
    """Ids of live products (tombstones aside) and ids carrying a vector, straight from ES."""
    live, with_vectors = set(), set()
    for hit in helpers.scan(es, index=index, _source=["tombstone", "has_vector"]):
        src = hit["_source"]
        if not src.get("tombstone"):
            live.add(hit["_id"])
        if src.get("has_vector"):
            with_vectors.add(hit["_id"])
    return live, with_vectors


@pytest.fixture
def built(es, isolated, model, tmp_path):
    report = build(isolated, es, model, BuildOptions(products=(_jsonl(tmp_path / "a.jsonl", PILLOWS + EARBUDS),),
                                                     progress=False))
    return report


def test_upsert_and_delete_reach_every_leg_after_a_sync(es, isolated, model, built, tmp_path):
    if isolated.vector_backend != "faiss":
        pytest.skip("the FAISS replica's catch-up; kNN has none (test_vector_backends covers both)")
    app = create_app(runtime=Runtime(isolated, embedder=model, es=es))
    client = app.test_client()
    replica = app.extensions["storesearch"].replica
    assert replica.current().vectors.seq == all_records(es, isolated)[0].seq

    new = {"id": "n1", "title": "buckwheat hull pillow for side sleepers", "brand": "Hully"}
    changed = {**PILLOWS[0], "title": "cooling gel pillow with bamboo cover"}
    report = upsert(isolated, es, model, [_jsonl(tmp_path / "u.jsonl", [new, changed])])
    assert report.written == 2 and report.encoded == 2
    gone = delete(isolated, es, ["e1", "missing-id"])
    assert gone.written == 1 and gone.not_found == ["missing-id"] and gone.seq > report.seq

    # keyword leg: ES is the truth, visible at once
    ids = [r["id"] for r in client.get("/search?q=buckwheat&mode=keyword").get_json()["results"]]
    assert ids[:1] == ["n1"]
    # semantic leg: the replica only knows its snapshot until it syncs
    def semantic(q):
        return [r["id"] for r in client.get(f"/search?q={q}&mode=semantic&size=5").get_json()["results"]]
    assert "n1" not in semantic("buckwheat hull pillow")
    assert replica.sync() == 3
    assert semantic("buckwheat hull pillow")[0] == "n1"
    assert semantic("cooling gel bamboo pillow")[0] == "p0"
    assert "e1" not in semantic("wireless earbuds model 1")
    assert "e1" not in [r["id"] for r in client.get("/search?q=earbuds&size=50").get_json()["results"]]
    health = client.get("/healthz").get_json()["replica"]
    assert health["seq"] == gone.seq and health["changes_applied"] == 3 and health["last_sync_s_ago"] >= 0

    # delete then re-insert the same id: one live document in both legs
    delete(isolated, es, ["n1"])
    upsert(isolated, es, model, [_jsonl(tmp_path / "u2.jsonl", [new])])
    replica.sync()
    live, with_vectors = _live_ids(es, isolated.products_alias)
    assert "n1" in live and "e1" not in live and len(live) == 60
    vectors = replica.current().vectors
    assert set(vectors.ids) == with_vectors and vectors.count == 60
    assert es.count(index=isolated.products_alias, query={"term": {"id": "n1"}})["count"] == 1


def test_changes_during_a_build_are_replayed_before_the_swap(es, isolated, model, built, tmp_path):
    # hold the write lock as a build would at its swap... instead, write changes to the live version
    # "during" a build by making them after the build took its sequence number: patch via a hook
    from indexer.build import pipeline as build_module

    original = build_module.load_brand_keywords
    calls = []

    def during(*args, **kwargs):  # runs after the product load, before the swap
        calls.append(upsert(isolated, es, model, [_jsonl(tmp_path / "d.jsonl", [
            {"id": "late", "title": "latex pillow added during the rebuild"}])]))
        calls.append(delete(isolated, es, ["p3"]))
        return original(*args, **kwargs)

    build_module.load_brand_keywords = during
    try:
        report = build(isolated, es, model, BuildOptions(
            products=(_jsonl(tmp_path / "b.jsonl", PILLOWS + EARBUDS),),
            brand_keywords=(_jsonl(tmp_path / "k.jsonl", [{"keyword": "枕头", "brand": "Dreamy"}]),),
            progress=False))
    finally:
        build_module.load_brand_keywords = original
    assert len(calls) == 2 and report.replayed == 2
    assert alias_target(es, isolated.products_alias) == report.products_index
    live, with_vectors = _live_ids(es, report.products_index)
    assert "late" in live and "p3" not in live and len(live) == 60
    snapshot = VectorIndex.load(report.snapshot)
    assert set(snapshot.ids) == with_vectors and snapshot.manifest.seq == calls[1].seq


def test_a_second_build_refuses_and_a_stale_lock_is_taken_over(es, isolated, model, built, tmp_path):
    source = _jsonl(tmp_path / "c.jsonl", PILLOWS)
    with Lock(es, isolated, BUILD_LOCK, purpose="someone else's build"):
        with pytest.raises(LockedError, match="someone else's build"):
            build(isolated, es, model, BuildOptions(products=(source,), progress=False))
    assert alias_target(es, isolated.products_alias) == built.products_index
    # a lock left by a dead owner: old heartbeat
    stale = {"kind": "lock", "token": "dead", "purpose": "crashed build", "host": "elsewhere", "pid": 1,
             "heartbeat": time.time() - 3600}
    state.put(es, isolated, BUILD_LOCK, stale)
    report = build(isolated, es, model, BuildOptions(products=(source,), progress=False))
    assert alias_target(es, isolated.products_alias) == report.products_index
    assert not state.read(es, isolated, BUILD_LOCK).exists  # released


def test_write_lock_held_blocks_upserts_with_a_clear_message(es, isolated, model, built, tmp_path, monkeypatch):
    monkeypatch.setattr("indexer.build.changes.WRITE_LOCK_WAIT_S", 0.5)
    with Lock(es, isolated, WRITE_LOCK, purpose="a rollback"):
        with pytest.raises(LockedError, match="write lock is held by a rollback"):
            upsert(isolated, es, model, [_jsonl(tmp_path / "x.jsonl", [{"id": "x", "title": "x"}])])


def test_rollback_prune_and_discard(es, isolated, model, built, tmp_path):
    second = build(isolated, es, model, BuildOptions(products=(_jsonl(tmp_path / "2.jsonl", PILLOWS),),
                                                     progress=False))
    upsert(isolated, es, model, [_jsonl(tmp_path / "u.jsonl", [{"id": "kept", "title": "kapok pillow"}])])
    done = lifecycle.rollback(es, isolated)
    assert (done.from_index, done.to_index, done.replayed) == (second.products_index, built.products_index, 1)
    assert alias_target(es, isolated.products_alias) == built.products_index
    live, _ = _live_ids(es, built.products_index)
    assert "kept" in live and len(live) == 61  # the day's change survived the rollback
    states = {r.products_index: r.state for r in all_records(es, isolated)}
    assert states == {built.products_index: "live", second.products_index: "rolled back"}

    third = build(isolated, es, model, BuildOptions(products=(_jsonl(tmp_path / "3.jsonl", EARBUDS),),
                                                    progress=False))
    fourth = build(isolated, es, model, BuildOptions(products=(_jsonl(tmp_path / "4.jsonl", EARBUDS),),
                                                     progress=False))
    # every build prunes past STORESEARCH_KEEP_VERSIONS (3 here): the oldest served version goes
    assert third.pruned == [] and fourth.pruned == [built.products_index]
    assert not es.indices.exists(index=built.products_index)
    assert not (isolated.vectors_dir / built.products_index).exists()
    assert lifecycle.prune(es, isolated, keep=2) == [second.products_index]
    # never the live one nor the one before it, whatever `keep` says
    assert lifecycle.prune(es, isolated, keep=2) == []
    assert es.indices.exists(index=third.products_index) and es.indices.exists(index=fourth.products_index)
    with pytest.raises(BuildError, match="not discardable"):
        lifecycle.discard(es, isolated, fourth.version)
