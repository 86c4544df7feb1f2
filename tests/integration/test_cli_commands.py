"""The console scripts as real subprocesses on the real stack: each command's effect and exit code, and a bad call.

A bad call exits non-zero with exactly one line on stderr (`indexer.core.exits`). Versions the
commands act on are built in-process with the session model (the commands use the same model on
torch, so their fingerprints and caches agree); only `build` and `upsert` load the model again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from elasticsearch import helpers

from indexer.build import pipeline
from indexer.build.pipeline import BuildOptions, build
from indexer.store.records import all_records
from indexer.store.versions import alias_target
from search_api.personal import event_store
from tests import commands

pytestmark = pytest.mark.integration


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _rows(word: str, n: int = 30) -> list[dict]:
    return [{"id": f"{word[:3]}{i}", "title": f"{word} model {i}", "brand": word.title()} for i in range(n)]


def _built(settings, es, model, path, rows):
    return build(settings, es, model, BuildOptions(products=(_jsonl(path, rows),), progress=False))


def _indexer(settings, *args: str):
    return commands.run(settings, "indexer", *args)


def test_sample_writes_shoppers_beside_the_catalog(isolated, tmp_path):
    out = commands.succeeded(_indexer(isolated, "sample", "--size", "300", "--personas", "5",
                                      "--out", str(tmp_path / "cat")))
    assert f"personas: {tmp_path / 'cat' / 'personas.jsonl'}" in out.splitlines()
    read = (tmp_path / "cat" / "products.jsonl").read_text(encoding="utf-8").splitlines()
    products = {json.loads(line)["id"] for line in read}
    personas = [json.loads(line) for line in
                (tmp_path / "cat" / "personas.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(products) == 300 and len(personas) == 5
    assert all(p["history"] and {e["product_id"] for e in p["history"]} <= products for p in personas)
    line = commands.refused(_indexer(isolated, "sample", "--personas", "-1", "--out", str(tmp_path / "no")), 2)
    assert line == "indexer: error: --size must be at least 1 and --personas at least 0"
    assert not (tmp_path / "no").exists()


@pytest.mark.slow
def test_upsert_then_delete(es, isolated, model, tmp_path):
    first = _built(isolated, es, model, tmp_path / "v1.jsonl", _rows("cushion"))
    changes = _jsonl(tmp_path / "u.jsonl", [{"id": "new1", "title": "buckwheat hull pillow"},
                                            {"id": "cus1", "title": "cooling gel cushion"}])
    out = commands.succeeded(_indexer(isolated, "upsert", str(changes)))
    assert out.startswith(f"upserted 2 products into {first.products_index} ")
    got = {d["_id"]: d["_source"] for d in es.mget(index=isolated.products_alias, ids=["new1", "cus1"])["docs"]}
    assert got["new1"]["has_vector"] and got["cus1"]["title"] == "cooling gel cushion"
    line = commands.refused(_indexer(isolated, "upsert", str(changes), "--max-reject-ratio", "2"), 2)
    assert line == "indexer: error: --max-reject-ratio must be between 0 and 1"

    out = commands.succeeded(_indexer(isolated, "delete", "cus2", "nosuch"))
    assert out.startswith(f"deleted 1 products from {first.products_index} ") and "not found      1: nosuch" in out
    assert es.get(index=isolated.products_alias, id="cus2")["_source"]["tombstone"] is True
    empty = tmp_path / "ids.txt"
    empty.write_text("\n", encoding="utf-8")
    assert commands.refused(_indexer(isolated, "delete", str(empty)), 2) == "indexer: error: no product ids given"
    live = [h["_id"] for h in helpers.scan(es, index=isolated.products_alias,
                                           query={"query": {"bool": {"must_not": {"term": {"tombstone": True}}}}})]
    assert len(live) == 30 and "cus2" not in live and "new1" in live


def test_rollback_to_a_version_then_prune(es, isolated, model, tmp_path):
    settings = isolated.with_(keep_versions=10)  # no automatic prune: the command's is the one tested
    v1, v2, v3 = (_built(settings, es, model, tmp_path / f"{w}.jsonl", _rows(w, 10 + n))
                  for n, w in enumerate(("kettle", "toaster", "blender")))
    out = commands.succeeded(_indexer(isolated, "rollback", "--to", v1.version))
    assert out.strip() == (f"live version   {v1.products_index} (was {v3.products_index}; "
                           "0 live changes carried over)")
    assert alias_target(es, isolated.products_alias) == v1.products_index  # not v2, the default target
    line = commands.refused(_indexer(isolated, "rollback", "--to", "19990101t000000000"), 1)
    assert line.startswith("indexer: error: no build '19990101t000000000' is recorded")

    v4 = _built(settings, es, model, tmp_path / "mixer.jsonl", _rows("mixer"))
    # newest first: v4 live, v3 rolled back, then v2 and v1; v1 is v4's previous version, so only v2 goes
    assert commands.succeeded(_indexer(isolated, "prune", "--keep", "2")).strip() == \
        f"pruned         {v2.products_index}"
    assert not es.indices.exists(index=v2.products_index) and not (isolated.vectors_dir / v2.products_index).exists()
    assert all(es.indices.exists(index=v.products_index) for v in (v1, v3, v4))
    line = commands.refused(_indexer(isolated, "prune", "--keep", "1"), 2)
    assert line == "indexer: error: --keep must be at least 2 (the live and the previous version)"
    assert all(es.indices.exists(index=v.products_index) for v in (v1, v3, v4))


def test_discard_an_interrupted_build(es, isolated, model, tmp_path, monkeypatch):
    live = _built(isolated, es, model, tmp_path / "v1.jsonl", _rows("teapot"))

    def interrupted(*_args):  # Ctrl-C once the load is done: the build is kept, resumable
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "finish_index", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _built(isolated, es, model, tmp_path / "v2.jsonl", _rows("teacup"))
    record = all_records(es, isolated)[0]
    assert record.state == "interrupted" and es.indices.exists(index=record.products_index)

    out = commands.succeeded(_indexer(isolated, "discard", record.stamp))
    assert out.strip() == f"discarded      {record.products_index}"
    assert not es.indices.exists(index=record.products_index)
    assert all_records(es, isolated)[0].state == "discarded"
    line = commands.refused(_indexer(isolated, "discard", live.version), 1)
    assert line == f"indexer: error: build {live.version} is live, not discardable"
    assert alias_target(es, isolated.products_alias) == live.products_index


@pytest.mark.slow
def test_build_full_and_no_cache(es, isolated, model, tmp_path):
    rows = _rows("lantern", 40)
    first = _built(isolated, es, model, tmp_path / "v1.jsonl", rows)
    source, reports = str(tmp_path / "v1.jsonl"), str(tmp_path / "reports")
    # the same catalog would be a clone with nothing written; --full writes every document
    out = commands.succeeded(_indexer(isolated, "build", source, "--full", "--no-progress", "--reject-dir", reports))
    assert "started from" not in out
    assert f"{first.vectors} embeddings cached, 0 encoded" in out
    full = all_records(es, isolated)[0]
    assert full.state == "live" and full.base is None and full.products_index != first.products_index
    # and would take every vector from the cache; --no-cache encodes every one (and so clones nothing)
    out = commands.succeeded(_indexer(isolated, "build", source, "--no-cache", "--no-progress", "--reject-dir", reports))
    assert "started from" not in out
    assert f"0 embeddings cached, {first.vectors} encoded" in out
    assert all_records(es, isolated)[0].base is None
    line = commands.refused(_indexer(isolated, "build", "--full", "--no-progress"), 2)
    assert line == "indexer: error: give product files to build, or --resume"
    assert alias_target(es, isolated.products_alias) == all_records(es, isolated)[0].products_index


@pytest.fixture
def event_days(es, isolated):
    """Daily events indices of today and 3, 10 and 20 days ago under the test's prefix (template dropped after)."""
    event_store.ensure_template(es, isolated)
    today = datetime.now(UTC).date()
    names = {age: event_store.day_index(isolated, today - timedelta(days=age)) for age in (0, 3, 10, 20)}
    try:
        for name in names.values():
            es.indices.create(index=name)
        yield names
    finally:
        event_store.drop_template(es, isolated)


def test_events_retention_dry_run_drops_nothing(es, isolated, event_days):
    result = commands.run(isolated, "search-api", "events-retention", "--days", "5", "--dry-run")
    assert commands.succeeded(result).strip().splitlines() == [
        f"would drop 2 events indices older than 5 days: {event_days[20]}, {event_days[10]}",
        "would drop 0 query-log indices older than 5 days"]
    assert sorted(es.indices.get_alias(name=isolated.events_alias)) == sorted(event_days.values())
    line = commands.refused(commands.run(isolated, "search-api", "events-retention", "--days", "0", "--dry-run"), 2)
    assert line == "search-api: error: --days must be at least 1"
    assert sorted(es.indices.get_alias(name=isolated.events_alias)) == sorted(event_days.values())
