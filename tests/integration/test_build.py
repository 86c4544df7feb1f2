"""Builds against a real Elasticsearch node with the real model."""

from __future__ import annotations

import json

import pytest
from elasticsearch import helpers

from indexer.build import pipeline
from indexer.build.pipeline import BuildOptions, build
from indexer.core.errors import BuildError, VerificationError
from indexer.format.vectors import VectorIndex
from indexer.store.records import all_records
from indexer.store.versions import alias_target

pytestmark = pytest.mark.integration


def test_sample_build_is_live_and_consistent(es, sample_index):
    s, report = sample_index.settings, sample_index.report
    assert alias_target(es, s.products_alias) == report.products_index
    assert alias_target(es, s.brand_keywords_alias) == report.brand_keywords_index
    assert es.count(index=s.products_alias)["count"] == report.accepted == 2000
    snapshot = VectorIndex.load(report.snapshot)
    assert snapshot.manifest.version == report.products_index and snapshot.count == 2000
    es_ids = {h["_id"] for h in helpers.scan(es, index=s.products_alias, _source=False,
                                            query={"query": {"term": {"has_vector": True}}})}
    assert es_ids == set(snapshot.ids)
    # the vector in ES (doc values) is the one in FAISS
    hit = es.search(index=s.products_alias, size=1, docvalue_fields=["embedding"], _source=False,
                    query={"ids": {"values": [snapshot.ids[0]]}})["hits"]["hits"][0]
    assert snapshot.vector(snapshot.ids[0]) == pytest.approx(hit["fields"]["embedding"][0], abs=1e-5)


def _catalog(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows)
                    + "\n", encoding="utf-8")
    return path


def test_rebuild_swaps_alias_and_keeps_old_version(es, isolated, model, tmp_path):
    first = build(isolated, es, model, BuildOptions(products=(_catalog(tmp_path / "a.jsonl", [
        {"id": "a1", "title": "memory foam pillow"}, {"id": "a2", "title": "孕妇抱枕"}]),), progress=False))
    second = build(isolated, es, model, BuildOptions(products=(_catalog(tmp_path / "b.jsonl", [
        {"id": "b1", "title": "wireless earbuds"}]),), progress=False))
    assert second.previous == first.products_index
    assert alias_target(es, isolated.products_alias) == second.products_index
    assert es.count(index=first.products_index)["count"] == 2  # old version intact for rollback
    assert es.count(index=isolated.products_alias)["count"] == 1
    # the Chinese-only title has no readable text for the English model: stored, but no vector
    assert first.vectors == 1 and first.accepted == 2


def test_rejects_are_reported_and_the_rest_indexed(es, isolated, model, tmp_path):
    rows = [{"id": f"p{i}", "title": f"cotton throw pillow {i}"} for i in range(40)]
    rows += ["{broken", {"id": "neg", "title": "x", "price": -3}]
    keywords = [{"keyword": f"kw{i}", "brand": "b"} for i in range(30)] + [{"keyword": "x", "brand": "b", "match": "?"}]
    report = build(isolated, es, model, BuildOptions(products=(_catalog(tmp_path / "c.jsonl", rows),),
                                                     brand_keywords=(_catalog(tmp_path / "k.jsonl", keywords),),
                                                     reject_dir=tmp_path / "reports", progress=False))
    assert report.accepted == 40 and len(report.rejects) == 3 and report.brand_keywords == 30
    bk_report = tmp_path / "reports" / f"{report.brand_keywords_index}-rejects.jsonl"
    assert json.loads(bk_report.read_text(encoding="utf-8"))["field"] == "match"
    lines = [json.loads(x) for x in report.reject_report.read_text(encoding="utf-8").splitlines()]
    assert [(x["line"], x["field"]) for x in lines] == [(41, None), (42, "price")]
    assert es.count(index=isolated.products_alias)["count"] == 40


def test_too_many_rejects_never_touch_the_live_alias(es, isolated, model, tmp_path):
    good = build(isolated, es, model, BuildOptions(products=(_catalog(tmp_path / "ok.jsonl", [
        {"id": "k1", "title": "linen cushion"}]),), progress=False))
    bad_rows = [{"id": "x1", "title": "fine"}, {"id": "x2"}, {"id": "x3", "price": "no"}]
    with pytest.raises(BuildError, match="max-reject-ratio"):
        build(isolated, es, model, BuildOptions(products=(_catalog(tmp_path / "bad.jsonl", bad_rows),),
                                                progress=False))
    assert alias_target(es, isolated.products_alias) == good.products_index
    with pytest.raises(BuildError, match="no usable product"):
        build(isolated, es, model, BuildOptions(products=(_catalog(tmp_path / "none.jsonl", ["{"]),),
                                                progress=False))
    assert alias_target(es, isolated.products_alias) == good.products_index
    names = set(es.indices.get(index=f"{isolated.prefix}-products-*"))
    assert names == {good.products_index}  # failed builds cleaned up after themselves


def test_documents_es_refuses_block_the_swap(es, isolated, model, tmp_path):
    # U+001F is reserved by completion fields: ES refuses that one document, a real item failure
    rows = [{"id": "ok1", "title": "silk duvet"}, {"id": "bad1", "title": "silk\u001fduvet"}]
    with pytest.raises(BuildError, match="refused 1 documents"):
        build(isolated, es, model, BuildOptions(products=(_catalog(tmp_path / "r.jsonl", rows),),
                                                progress=False))
    assert alias_target(es, isolated.products_alias) is None
    _assert_discarded(es, isolated, "refused 1 documents", kept=set())
    report = build(isolated, es, model, BuildOptions(products=(_catalog(tmp_path / "r.jsonl", rows),),
                                                     allow_failures=1, progress=False))
    assert report.accepted == 1 and len(report.failures) == 1
    assert VectorIndex.load(report.snapshot).ids == ["ok1"]


def _assert_discarded(es, settings, reason: str, *, kept: set[str]) -> None:
    """The newest build failed for `reason` and left nothing behind: of the versions, only `kept` remain."""
    record = all_records(es, settings)[0]
    assert record.state == "failed" and reason in record.error
    left = set(es.indices.get(index=f"{settings.prefix}-*", allow_no_indices=True, ignore_unavailable=True))
    assert left - {f"{settings.prefix}-state"} == kept
    assert not (settings.vectors_dir / record.products_index).exists()


def _fault_after_load(monkeypatch, prefix: str, fault) -> None:
    """Apply `fault(index)` once to the new products index when it is loaded and refreshed, before verification."""
    finish, faulted = pipeline.finish_index, []

    def then_fault(client, name, *args):
        finish(client, name, *args)
        if name.startswith(f"{prefix}-products-") and not faulted:
            faulted.append(name)
            fault(name)

    monkeypatch.setattr(pipeline, "finish_index", then_fault)


@pytest.mark.parametrize(("fault", "reason"), [
    ("document", "holds 39 products, expected 40"),
    ("vector", "vector ids disagree: 0 in ES but not FAISS, 1 in FAISS but not ES"),
])
def test_a_version_that_fails_verification_is_deleted_and_the_alias_stays(es, isolated, model, tmp_path,
                                                                          monkeypatch, fault, reason):
    products = _catalog(tmp_path / "p.jsonl", [{"id": f"w{i}", "title": f"merino wool blanket {i}"} for i in range(40)])
    keywords = _catalog(tmp_path / "k.jsonl", [{"keyword": "blanket", "brand": "Woolly"}])
    options = BuildOptions(products=(products,), brand_keywords=(keywords,), progress=False)
    good = build(isolated, es, model, options)
    # what the load acknowledged is not what the index holds: a document lost, or one that lost its vector
    faults = {"document": lambda index: es.delete(index=index, id="w7", refresh=True),
              "vector": lambda index: es.update(index=index, id="w7", doc={"has_vector": False}, refresh=True)}
    _fault_after_load(monkeypatch, isolated.prefix, faults[fault])
    with pytest.raises(VerificationError, match=reason):
        build(isolated, es, model, options)
    assert alias_target(es, isolated.products_alias) == good.products_index
    assert alias_target(es, isolated.brand_keywords_alias) == good.brand_keywords_index
    assert es.count(index=isolated.products_alias)["count"] == 40
    _assert_discarded(es, isolated, reason, kept={good.products_index, good.brand_keywords_index, good.suggestions_index})
