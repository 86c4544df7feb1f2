"""Rebuilds that start from a clone of the live version end exactly where a build from scratch ends."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time

import numpy as np
import pytest
from elasticsearch import helpers

from indexer.build.changes import delete, upsert
from indexer.build.pipeline import BuildOptions, build
from indexer.core.errors import EngineError
from indexer.embedding.embedder import MAX_TOKENS, SentenceTransformerEmbedder
from indexer.format.vectors import VectorIndex
from indexer.store import state
from indexer.store.locks import WRITE_LOCK
from indexer.store.versions import alias_target
from indexer.text import analysis

pytestmark = pytest.mark.integration

VOLATILE = {"indexed_at", "seq"}
"""Fields that say when a document was written, not what it is."""


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


CATALOG = ([{"id": f"p{i}", "title": f"memory foam pillow model {i}", "brand": "Dreamy", "price": 10 + i}
            for i in range(40)]
           + [{"id": f"z{i}", "title": f"孕妇抱枕{'一二三四五六七八九十'[i]}号", "brand": "暖暖",
               "title_lang": "zh"} for i in range(10)]
           + [{"id": f"e{i}", "title": f"wireless earbuds model {i}", "brand": "Sonic"} for i in range(40)])


def _documents(es, index):
    docs = {}
    for hit in helpers.scan(es, index=index, query={"query": {"match_all": {}}}):
        docs[hit["_id"]] = {k: v for k, v in hit["_source"].items() if k not in VOLATILE}
    return docs


def _vectors(settings, index):
    snapshot = VectorIndex.load(settings.vectors_dir / index)
    ids, matrix = snapshot.vectors(sorted(snapshot.ids))
    return ids, matrix


def test_a_reusing_rebuild_equals_a_full_one(es, isolated, model, tmp_path):
    first = build(isolated, es, model, BuildOptions(products=(_jsonl(tmp_path / "v1.jsonl", CATALOG),),
                                                    progress=False))
    assert first.base is None and first.rewritten == len(CATALOG)
    # changes to the live version since it was built: the catalog must win over them, as in a full build
    upsert(isolated, es, model, [_jsonl(tmp_path / "u.jsonl", [{**CATALOG[1], "title": "silk pillow case"},
                                                                {"id": "x1", "title": "stray gadget"}])])
    delete(isolated, es, ["e0"])
    # the next catalog: one product changed, one gone, one new
    catalog = [dict(row) for row in CATALOG if row["id"] != "e5"]
    catalog[2]["price"] = 99.5
    catalog.append({"id": "n1", "title": "buckwheat hull pillow", "brand": "Hully"})
    source = _jsonl(tmp_path / "v2.jsonl", catalog)

    reused = build(isolated, es, model, BuildOptions(products=(source,), progress=False))
    assert reused.base == first.products_index
    # p1 and e0 were changed after the snapshot, p2 changed, n1 is new; e5 and x1 are gone
    assert reused.rewritten == 4 and reused.removed == 2
    assert alias_target(es, isolated.products_alias) == reused.products_index
    # writes to the version it cloned were blocked only for the clone
    for index in (first.products_index, reused.products_index):
        got = es.indices.get_settings(index=index, name="index.blocks.write").body
        assert got.get(index, {}).get("settings", {}).get("index", {}).get("blocks", {}).get("write") in (None, "false")

    full = build(isolated, es, model, BuildOptions(products=(source,), progress=False, reuse=False))
    assert full.base is None and full.rewritten == len(catalog)
    assert _documents(es, reused.products_index) == _documents(es, full.products_index)
    ids_reused, vectors_reused = _vectors(isolated, reused.products_index)
    ids_full, vectors_full = _vectors(isolated, full.products_index)
    assert ids_reused == ids_full and len(ids_full) == len(catalog) - 10  # Chinese-only: no vector
    np.testing.assert_allclose(vectors_reused, vectors_full, atol=1e-5)
    assert reused.vectors == full.vectors == len(ids_full)


def test_an_unchanged_catalog_is_cloned_and_nothing_written(es, isolated, model, tmp_path):
    source = _jsonl(tmp_path / "v1.jsonl", CATALOG)
    first = build(isolated, es, model, BuildOptions(products=(source,), progress=False))
    again = build(isolated, es, model, BuildOptions(products=(source,), progress=False))
    assert again.base == first.products_index
    assert (again.rewritten, again.removed, again.cache_misses) == (0, 0, 0)
    assert again.accepted == len(CATALOG) and again.vectors == first.vectors
    assert _documents(es, again.products_index) == _documents(es, first.products_index)


def test_a_dead_cloners_write_block_is_lifted_by_the_next_writer(es, isolated, model, tmp_path):
    first = build(isolated, es, model, BuildOptions(products=(_jsonl(tmp_path / "v1.jsonl", CATALOG),),
                                                    progress=False))
    live = first.products_index
    # what a rebuild killed mid-clone leaves: the live index write-blocked, the write lock held by a dead pid
    es.indices.put_settings(index=live, settings={"index.blocks.write": True})
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    held = state.read(es, isolated, WRITE_LOCK)
    assert state.write_if(es, isolated, held, {
        "kind": "lock", "token": "gone", "purpose": "clone (killed)", "host": socket.gethostname(),
        "pid": dead, "heartbeat": time.time(), "write_block": live})
    report = upsert(isolated, es, model, [_jsonl(tmp_path / "u.jsonl", [{"id": "n1", "title": "new pillow"}])])
    assert report.written == 1
    assert es.get(index=live, id="n1")["_source"]["title"] == "new pillow"


def test_a_refused_clone_falls_back_to_writing_everything(es, isolated, model, tmp_path, monkeypatch, caplog):
    source = _jsonl(tmp_path / "v1.jsonl", CATALOG)
    first = build(isolated, es, model, BuildOptions(products=(source,), progress=False))

    def refused(*_args, **_kwargs):  # what a cluster that denies the clone privilege answers
        raise EngineError("cloning failed: HTTP 403 security_exception: action [indices:admin/resize] is unauthorized")

    monkeypatch.setattr("indexer.build.start.clone", refused)
    again = build(isolated, es, model, BuildOptions(products=(source,), progress=False))
    assert again.base is None and again.rewritten == len(CATALOG) and again.cache_misses == 0
    assert alias_target(es, isolated.products_alias) == again.products_index != first.products_index
    assert "writing every document" in caplog.text


def _changed(change, settings, model, tmp_path, monkeypatch):
    """`settings` and model after one change that alters what a document or vector is made of."""
    if change == "model":  # the same weights with a shorter sequence cap: other vectors for long texts
        return settings, SentenceTransformerEmbedder(settings.model, languages=settings.model_languages,
                                                     torch_threads=settings.torch_threads, max_tokens=MAX_TOKENS // 2)
    if change == "mappings":
        mappings = shutil.copytree(settings.mappings_dir, tmp_path / "mappings")
        body = json.loads((mappings / "products.json").read_text(encoding="utf-8"))
        body["mappings"]["properties"]["supplier_note"] = {"type": "keyword"}
        (mappings / "products.json").write_text(json.dumps(body), encoding="utf-8")
        return settings.with_(mappings_dir=mappings), model
    if change == "analysis":  # what a change to the analysis functions comes with (analysis.py)
        monkeypatch.setattr(analysis, "ANALYSIS_FORMAT", analysis.ANALYSIS_FORMAT + 1)
        analysis.analysis_fingerprint.cache_clear()
        return settings, model
    return settings.with_(embed_template="{title}. {brand}"), model  # the embedded text


@pytest.fixture
def fresh_analysis_fingerprint():
    """The fingerprint cached from the real ANALYSIS_FORMAT, before and after a test that bumps it."""
    analysis.analysis_fingerprint.cache_clear()
    yield
    analysis.analysis_fingerprint.cache_clear()


@pytest.mark.parametrize("change", ["model", "mappings", "analysis", "template"])
def test_a_rebuild_after_the_making_changed_reuses_nothing(change, es, isolated, model, tmp_path, monkeypatch,
                                                           fresh_analysis_fingerprint):
    source = _jsonl(tmp_path / "v1.jsonl", CATALOG)
    first = build(isolated, es, model, BuildOptions(products=(source,), progress=False))
    settings, embedder = _changed(change, isolated, model, tmp_path, monkeypatch)
    rebuilt = build(settings, es, embedder, BuildOptions(products=(source,), progress=False))
    # no clone of the old version: every document written again, in the new mapping
    assert rebuilt.base is None and rebuilt.rewritten == len(CATALOG) and rebuilt.removed == 0
    fields = es.indices.get_mapping(index=rebuilt.products_index)[rebuilt.products_index]["mappings"]["properties"]
    assert ("supplier_note" in fields) == (change == "mappings")
    # a new model or embedded text: every vector encoded again, none taken from the old snapshot or cache
    encoded = first.vectors if change in ("model", "template") else 0
    assert (rebuilt.cache_misses, rebuilt.cache_hits) == (encoded, first.vectors - encoded)
    assert rebuilt.vectors == first.vectors and alias_target(es, isolated.products_alias) == rebuilt.products_index
    # the same making again is cloned: what refused reuse above was the change
    again = build(settings, es, embedder, BuildOptions(products=(source,), progress=False))
    assert again.base == rebuilt.products_index and (again.rewritten, again.cache_misses) == (0, 0)
