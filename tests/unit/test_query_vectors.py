"""Query vectors on the read side: remembered, read-only, and encoded once under concurrency."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pytest

from search_api.core.settings import ApiSettings
from search_api.retrieval import query_vectors
from search_api.retrieval.query_vectors import QueryVectors
from search_api.retrieval.runtime import Runtime
from tests.fakes import HashEmbedder

QUERY = "memory foam pillow for side sleepers"
WAIT = 10.0
"""Seconds before a synchronisation that should be instant counts as a hang."""


class GatedEmbedder(HashEmbedder):
    """Records each query encode and holds it until the test opens the gate."""

    def __init__(self, *, fail: bool = False) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.started = threading.Event()
        self.gate = threading.Event()
        self.fail = fail

    def embed_query(self, text: str) -> np.ndarray:
        self.calls.append(text)
        self.started.set()
        assert self.gate.wait(WAIT), "the test never opened the gate"
        if self.fail:
            raise RuntimeError("model broke")
        return super().embed_query(text)


@pytest.fixture
def waiters(monkeypatch: pytest.MonkeyPatch) -> threading.Semaphore:
    """Released once by every caller that waits for another caller's encode (not by the encoder)."""
    arrived = threading.Semaphore(0)

    class CountedFuture(Future):
        def result(self, timeout: float | None = None) -> np.ndarray:
            arrived.release()
            return super().result(timeout)

    monkeypatch.setattr(query_vectors, "Future", CountedFuture)
    return arrived


def _ask_while_encoding(vectors: QueryVectors, fake: GatedEmbedder, waiters: threading.Semaphore,
                        callers: int) -> list[np.ndarray | str]:
    """One caller starts the encode; the others arrive while it is held; then the gate opens."""
    def ask(_: int) -> np.ndarray | str:
        try:
            return vectors.embed_query(QUERY)
        except RuntimeError as exc:
            return str(exc)

    with ThreadPoolExecutor(callers) as pool:
        first = pool.submit(ask, 0)
        assert fake.started.wait(WAIT)
        others = [pool.submit(ask, i) for i in range(1, callers)]
        for _ in others:  # every other caller is waiting on the first one's encode
            assert waiters.acquire(timeout=WAIT)
        fake.gate.set()
        return [first.result(), *(f.result() for f in others)]


def test_concurrent_encodes_of_one_query_share_one_forward_pass(waiters):
    fake = GatedEmbedder()
    vectors = QueryVectors(fake)
    answers = _ask_while_encoding(vectors, fake, waiters, callers=4)
    assert fake.calls == [QUERY]
    assert all(v is answers[0] for v in answers) and not answers[0].flags.writeable
    assert vectors.embed_query(QUERY) is answers[0] and fake.calls == [QUERY]  # remembered


def test_a_failed_encode_reaches_every_waiter_and_is_not_remembered(waiters):
    fake = GatedEmbedder(fail=True)
    vectors = QueryVectors(fake)
    assert _ask_while_encoding(vectors, fake, waiters, callers=3) == ["model broke"] * 3
    assert fake.calls == [QUERY]
    fake.fail = False
    assert vectors.embed_query(QUERY).shape == (fake.dims,)  # the failure left nothing pending
    assert fake.calls == [QUERY, QUERY]


def test_least_recently_used_queries_are_forgotten_first():
    fake = GatedEmbedder()
    fake.gate.set()
    vectors = QueryVectors(fake, size=2)
    first = vectors.embed_query("a")
    vectors.embed_query("b")
    assert vectors.embed_query("a") is first  # a hit: now the most recent
    vectors.embed_query("c")  # evicts b
    vectors.embed_query("b")
    assert fake.calls == ["a", "b", "c", "b"] and vectors.embed_query("c") is not None
    vectors.forget_queries()
    vectors.embed_query("a")
    assert fake.calls == ["a", "b", "c", "b", "a"]


def test_everything_but_query_vectors_is_the_wrapped_embedders():
    fake = HashEmbedder(dims=32)
    vectors = QueryVectors(fake)
    assert (vectors.model_id, vectors.fingerprint, vectors.dims, vectors.languages) == (
        fake.model_id, fake.fingerprint, 32, fake.languages)
    assert vectors.readable("枕头 pillow") == fake.readable("枕头 pillow")
    np.testing.assert_array_equal(vectors.embed_documents(["soft pillow"]), fake.embed_documents(["soft pillow"]))
    np.testing.assert_array_equal(vectors.embed_query("soft pillow"), fake.embed_query("soft pillow"))


def test_the_runtime_wraps_an_injected_embedder_once():
    fake = HashEmbedder()
    rt = Runtime(ApiSettings(), embedder=fake)
    assert isinstance(rt.embedder, QueryVectors) and rt.embedder.embedder is fake and rt.embedder_loaded
    shared = QueryVectors(fake)
    assert Runtime(ApiSettings(), embedder=shared).embedder is shared


def test_the_model_encodes_and_the_read_side_remembers(model):
    plain = model.embed_query(QUERY)
    assert plain is not model.embed_query(QUERY)  # the model itself keeps nothing
    assert np.isclose(float(np.linalg.norm(plain)), 1.0, atol=1e-4)
    vectors = QueryVectors(model)
    remembered = vectors.embed_query(QUERY)
    np.testing.assert_allclose(remembered, plain, atol=1e-6)
    assert vectors.embed_query(QUERY) is remembered and not remembered.flags.writeable
