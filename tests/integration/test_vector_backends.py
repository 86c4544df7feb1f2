"""The semantic leg on each vector backend (FAISS replica, Elasticsearch kNN float and int8), real ES and model."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from indexer.build.changes import delete, upsert
from indexer.build.pipeline import BuildOptions, build
from indexer.store import lifecycle
from search_api.http.app import create_app
from search_api.retrieval.knn import EsKnn, knn_filter
from search_api.retrieval.runtime import Runtime
from tests.conftest import drop_prefix, fresh_settings

pytestmark = pytest.mark.integration

PILLOWS = [{"id": f"p{i}", "title": f"memory foam pillow model {i}", "brand": "Dreamy"} for i in range(20)]
EARBUDS = [{"id": f"e{i}", "title": f"wireless earbuds model {i}", "brand": "Sonic"} for i in range(20)]
SOLD_OUT = [{"id": f"s{i}", "title": f"down feather pillow {i}", "brand": "Fluffy", "status": "sold_out"}
            for i in range(5)]
DELETED = [{"id": "d1", "title": "memory foam pillow withdrawn", "brand": "Dreamy", "status": "deleted"}]
LATEX = [{"id": f"l{i}", "title": f"natural latex pillow {i}", "brand": "Cloud"} for i in range(5)]
CHINESE = [{"id": "zh1", "title": "记忆棉枕头", "brand": "梦乡"}]  # nothing the model reads: no vector
CATALOG = PILLOWS + EARBUDS + SOLD_OUT + LATEX + DELETED + CHINESE

BACKENDS = {"faiss": {"vector_backend": "faiss"},
            "es-hnsw": {"vector_backend": "elasticsearch", "knn_index": "hnsw"},
            "es-int8": {"vector_backend": "elasticsearch", "knn_index": "int8_hnsw"}}


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _build(es, es_url, model, root, backend):
    settings = fresh_settings(es_url, root).with_(**BACKENDS[backend])
    report = build(settings, es, model, BuildOptions(products=(_jsonl(root / "c.jsonl", CATALOG),), progress=False))
    if settings.vector_backend == "elasticsearch":  # kNN needs no snapshot: prove it by removing it
        shutil.rmtree(settings.vectors_dir)
    return settings, report


@pytest.fixture(scope="module", params=list(BACKENDS))
def served(request, es, es_url, model, tmp_path_factory):
    """A built catalog on one backend and a test client on it (read-only tests)."""
    settings, _ = _build(es, es_url, model, tmp_path_factory.mktemp(request.param), request.param)
    runtime = Runtime(settings, embedder=model, es=es)
    yield settings, runtime, create_app(runtime=runtime).test_client()
    drop_prefix(es, settings.prefix)


def _search(client, **params):
    response = client.get("/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _ids(body):
    return [r["id"] for r in body["results"]]


def test_mapping_indexes_the_vector_only_for_knn(served, es):
    settings, _, _ = served
    mapping = next(iter(es.indices.get_mapping(index=settings.products_alias).values()))
    embedding = mapping["mappings"]["properties"]["embedding"]
    if settings.vector_backend == "faiss":
        assert embedding["index"] is False
    else:
        assert embedding["index"] is True and embedding["similarity"] == "cosine"
        assert embedding["index_options"]["type"] == settings.knn_index


def test_semantic_leg_answers_and_meta_and_healthz_name_the_backend(served):
    settings, _, client = served
    body = _search(client, q="pillow for a good night's sleep", mode="semantic", size=10)
    assert body["meta"]["vector_backend"] == settings.vector_backend
    assert body["meta"]["legs"] == {"semantic": "ok"}
    assert _ids(body) and all(pid.startswith("p") for pid in _ids(body))
    hybrid = _search(client, q="wireless earbuds", size=10)
    assert hybrid["meta"]["legs"] == {"keyword": "ok", "semantic": "ok"} and not hybrid["meta"]["degraded"]
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["vector_backend"] == settings.vector_backend
    assert health["replica"]["backend"] == settings.vector_backend


def test_filters_and_visibility_hold_in_the_semantic_leg(served):
    _, _, client = served
    cloud = _ids(_search(client, q="memory foam pillow", mode="semantic", brand="Cloud", size=50))
    assert sorted(cloud) == [f"l{i}" for i in range(5)]
    default = _ids(_search(client, q="down feather pillow", mode="semantic", size=50))
    assert default and not any(pid.startswith("s") for pid in default)  # sold out: hidden by default
    sold = _ids(_search(client, q="down feather pillow", mode="semantic", status="sold_out", size=10))
    assert sold and all(pid.startswith("s") for pid in sold)


def test_knn_skips_deleted_products_and_leaves_the_request_filters_to_the_eligible_set(served):
    settings, runtime, client = served
    if settings.vector_backend == "faiss":
        pytest.skip("FAISS answers unfiltered; the eligible set filters afterwards")
    live = runtime.replica.current()
    assert isinstance(live.vectors, EsKnn) and live.backend == "elasticsearch"
    query = runtime.embedder.embed_query("memory foam pillow")
    hits = live.vectors.search(query, 100, filter=knn_filter())
    ids = [pid for pid, _ in hits]
    assert "d1" not in ids and {"s0", "e0", "l0"} <= set(ids)  # sold out and other brands: candidates
    assert all(-1.0 <= cos <= 1.0 for _, cos in hits) and hits == sorted(hits, key=lambda h: -h[1])
    found, matrix = live.vectors.vectors(ids[:5] + ["zh1", "nope"])  # zh1 has no vector
    assert found == ids[:5] and matrix.shape == (5, query.shape[0])
    # the cosines kNN reports are the stored vectors' (int8 re-scored with them)
    assert np.allclose(matrix @ query, [cos for _, cos in hits[:5]], atol=0.02)
    # any filter still works in the engine (the benchmark's comparisons)
    sonic = live.vectors.search(query, 5, filter={"term": {"brand": "Sonic"}})
    assert len(sonic) == 5 and all(pid.startswith("e") for pid, _ in sonic)


def test_a_facet_value_counts_what_filtering_by_it_finds(served):
    _, _, client = served
    plain = _search(client, q="pillow", size=5, facets="brand")
    counts = {b["value"]: b["count"] for b in plain["facets"]["brand"]}
    for brand, count in counts.items():
        assert _search(client, q="pillow", size=5, brand=brand)["meta"]["total"] == count, brand


def test_personalised_and_profile_legs_work_the_same(served):
    _, _, client = served
    now = datetime.now(UTC)
    history = [{"product_id": f"e{i}", "action": "click", "ts": (now - timedelta(hours=i)).isoformat()}
               for i in range(5)]
    bent = client.post("/search", json={"q": "wireless earbuds", "size": 10, "history": history}).get_json()
    assert bent["meta"]["personalised"] and bent["meta"]["legs"]["semantic"] == "ok (personalised)"
    assert all(pid.startswith("e") for pid in _ids(bent))
    # a query the model cannot read: the profile leg ranks the keyword candidates by taste
    chinese = client.post("/search", json={"q": "枕头", "size": 10, "history": history}).get_json()
    assert chinese["meta"]["legs"]["semantic"].startswith("skipped")
    assert "zh1" in _ids(chinese)


@pytest.mark.parametrize("backend", ["faiss", "es-hnsw"])
def test_upserts_deletes_and_rollback_reach_the_semantic_leg(backend, es, es_url, model, tmp_path):
    """kNN sees a change once it is written (no replica sync); FAISS once its replica synced."""
    settings, first = _build(es, es_url, model, tmp_path, backend)
    try:
        runtime = Runtime(settings, embedder=model, es=es)
        client = create_app(runtime=runtime).test_client()

        def semantic(q):
            return _ids(_search(client, q=q, mode="semantic", size=5))

        upsert(settings, es, model, [_jsonl(tmp_path / "u.jsonl", [
            {"id": "n1", "title": "buckwheat hull pillow for side sleepers", "brand": "Hully"}])])
        delete(settings, es, ["e1"])
        if settings.vector_backend == "faiss":
            assert runtime.replica.sync() == 2
        else:
            assert runtime.replica.sync() == 0  # nothing to catch up
        assert semantic("buckwheat hull pillow")[0] == "n1"
        assert "e1" not in semantic("wireless earbuds model 1")

        # a second build, then a rollback: the old version answers again, with the changes carried over
        second = build(settings, es, model, BuildOptions(products=(_jsonl(tmp_path / "c2.jsonl", CATALOG),),
                                                         progress=False))
        assert second.products_index != first.products_index
        lifecycle.rollback(es, settings)
        body = _search(client, q="buckwheat hull pillow", mode="semantic", size=5)
        assert body["meta"]["index_version"] == first.products_index
        assert body["meta"]["vector_backend"] == settings.vector_backend
        if settings.vector_backend == "faiss":
            runtime.replica.sync()
        assert _ids(body)[0] == "n1" or semantic("buckwheat hull pillow")[0] == "n1"
    finally:
        drop_prefix(es, settings.prefix)


def test_knn_on_an_index_built_for_faiss_degrades_to_keyword_search(served, es, model):
    """An API switched to kNN before the rebuild that maps the vector: keyword answers, the leg says failed."""
    settings, _, _ = served
    if settings.vector_backend != "faiss":
        pytest.skip("needs an index built without the kNN mapping")
    client = create_app(runtime=Runtime(settings.with_(vector_backend="elasticsearch"), embedder=model,
                                        es=es)).test_client()
    body = _search(client, q="memory foam pillow", size=5)
    assert body["meta"]["degraded"] is True and body["meta"]["vector_backend"] == "elasticsearch"
    assert body["meta"]["legs"] == {"semantic": "failed", "keyword": "ok"} and _ids(body)


def test_a_server_master_preloads_and_its_workers_search_on_either_backend(served, model):
    settings, _, _ = served
    rt = Runtime(settings, embedder=model)  # its own clients, as `search-api serve` makes them
    live = rt.load_shared()
    assert live is not None and live.backend == settings.vector_backend
    rt.start_process()
    try:
        client = create_app(runtime=rt).test_client()
        body = _search(client, q="memory foam pillow", size=5)
        assert body["meta"]["vector_backend"] == settings.vector_backend and body["meta"]["legs"]["semantic"] == "ok"
    finally:
        rt.close()
