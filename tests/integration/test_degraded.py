"""Degraded, not down, on the shared sample build: one leg fails or is late, the other answers.

Each failure is a real one: a model that raises, a snapshot directory with nothing in it, an
Elasticsearch error from a real query, a leg held past its budget. The degraded answer must be
exactly the surviving leg's own ranking (compared with a healthy app in that leg's mode).
"""

from __future__ import annotations

import threading
import time

import pytest

from search_api.http.app import create_app
from search_api.retrieval import keyword
from search_api.retrieval.runtime import Runtime

pytestmark = pytest.mark.integration


class BrokenModel:
    """The real model whose query encoder is gone (a corrupt file, an OOM in the forward pass)."""

    def __init__(self, model) -> None:  # type: ignore[no-untyped-def]
        self.model = model
        self.model_id, self.fingerprint = model.model_id, model.fingerprint
        self.dims, self.languages = model.dims, model.languages

    def readable(self, text: str) -> str:
        return self.model.readable(text)

    def embed_documents(self, texts):  # type: ignore[no-untyped-def]
        return self.model.embed_documents(texts)

    def embed_query(self, text: str):  # type: ignore[no-untyped-def]
        raise RuntimeError("model weights unreadable")


def ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["id"] for r in response.get_json()["results"]]


@pytest.fixture(scope="module")
def healthy(sample_index, model, es):  # type: ignore[no-untyped-def]
    """An app on the sample build with every part working: the reference each leg is compared with."""
    return create_app(runtime=Runtime(sample_index.settings, embedder=model, es=es)).test_client()


def test_a_broken_model_leaves_keyword_search_answering(sample_index, model, es, healthy):
    broken = create_app(runtime=Runtime(sample_index.settings, embedder=BrokenModel(model), es=es)).test_client()
    response = broken.get("/search", query_string={"q": "pillow", "size": 10})
    assert response.status_code == 200, response.get_json()
    meta = response.get_json()["meta"]
    assert meta["degraded"] is True and meta["legs"] == {"semantic": "failed", "keyword": "ok"}
    assert "weights" not in response.get_data(as_text=True)
    expected = healthy.get("/search", query_string={"q": "pillow", "size": 10, "mode": "keyword"})
    assert ids(response) and ids(response) == ids(expected)  # exactly the keyword leg's ranking
    semantic_only = broken.get("/search", query_string={"q": "pillow", "mode": "semantic"})
    assert semantic_only.status_code == 503 and semantic_only.get_json()["error"]["code"] == "search_unavailable"


def test_a_keyword_leg_over_its_budget_answers_with_the_semantic_leg(sample_index, model, es, monkeypatch):
    """A test hook delays the keyword leg inside its pool thread, past the keyword budget."""
    budget_ms = 300
    real_search, release = keyword.search, threading.Event()

    def late_keyword(*args, **kwargs):  # type: ignore[no-untyped-def]
        release.wait(5)
        return real_search(*args, **kwargs)

    settings = sample_index.settings.with_(keyword_budget_ms=budget_ms)
    client = create_app(runtime=Runtime(settings, embedder=model, es=es)).test_client()
    client.get("/search", query_string={"q": "pillow"})  # replica and query cache warm
    monkeypatch.setattr(keyword, "search", late_keyword)
    started = time.monotonic()
    try:
        response = client.get("/search", query_string={"q": "pillow", "size": 10})
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert response.status_code == 200
    meta = response.get_json()["meta"]
    assert meta["degraded"] is True and meta["legs"] == {"semantic": "ok", "keyword": "failed: timeout"}
    assert budget_ms / 1000 <= elapsed < budget_ms / 1000 + 1.5, elapsed  # not the 5 s the leg would take
    expected = client.get("/search", query_string={"q": "pillow", "size": 10, "mode": "semantic"})
    assert ids(response) and ids(response) == ids(expected)  # exactly the semantic leg's ranking


def test_a_replica_without_its_snapshot_leaves_keyword_search_answering(sample_index, model, es, healthy, tmp_path):
    """The alias names a version whose FAISS snapshot is not on this host (an empty vectors directory)."""
    settings = sample_index.settings.with_(vectors_dir=tmp_path / "no-snapshots", vector_backend="faiss")
    rt = Runtime(settings, embedder=model, es=es)  # the FAISS replica's failure (kNN loads no snapshot)
    client = create_app(runtime=rt).test_client()
    response = client.get("/search", query_string={"q": "pillow", "size": 10})
    assert response.status_code == 200, response.get_json()
    meta = response.get_json()["meta"]
    assert meta["degraded"] is True and meta["legs"] == {"semantic": "failed", "keyword": "ok"}
    expected = healthy.get("/search", query_string={"q": "pillow", "size": 10, "mode": "keyword"})
    assert ids(response) and ids(response) == ids(expected)
    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded" and health["index_version"] == sample_index.report.products_index
    semantic_only = client.get("/search", query_string={"q": "pillow", "mode": "semantic"})
    assert semantic_only.status_code == 503 and semantic_only.get_json()["error"]["code"] == "search_unavailable"


def test_an_elasticsearch_error_in_the_keyword_leg_answers_with_the_semantic_leg(sample_index, model, es, healthy,
                                                                                monkeypatch):
    """The keyword query goes to an index Elasticsearch does not have: a real engine error, not a timeout."""
    real_search = keyword.search
    missing = f"{sample_index.settings.prefix}-no-such-index"

    def misdirected(es, index, *args, **kwargs):  # type: ignore[no-untyped-def]
        return real_search(es, missing, *args, **kwargs)

    client = create_app(runtime=Runtime(sample_index.settings, embedder=model, es=es)).test_client()
    monkeypatch.setattr(keyword, "search", misdirected)
    response = client.get("/search", query_string={"q": "pillow", "size": 10})
    assert response.status_code == 200, response.get_json()
    meta = response.get_json()["meta"]
    assert meta["degraded"] is True and meta["legs"] == {"semantic": "ok", "keyword": "failed"}
    assert "index_not_found" not in response.get_data(as_text=True)  # Elasticsearch's words stay in the log
    expected = healthy.get("/search", query_string={"q": "pillow", "size": 10, "mode": "semantic"})
    assert ids(response) and ids(response) == ids(expected)
    keyword_only = client.get("/search", query_string={"q": "pillow", "mode": "keyword"})
    assert keyword_only.status_code == 503 and keyword_only.get_json()["error"]["code"] == "search_unavailable"
