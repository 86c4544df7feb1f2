"""Query vectors on the real model: remembered, read-only, and encoded once under concurrency."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

QUERY = "memory foam pillow for side sleepers"


def _slow(model, monkeypatch, calls, *, fail=False):
    real = model.embed_documents

    def encode(texts):
        calls.append(list(texts))
        time.sleep(0.2)  # long enough for every thread to arrive while the first encodes
        if fail:
            raise RuntimeError("model broke")
        return real(texts)

    monkeypatch.setattr(model, "embed_documents", encode)


def test_concurrent_encodes_of_one_query_share_one_forward_pass(model, monkeypatch):
    model.forget_queries()
    calls: list[list[str]] = []
    _slow(model, monkeypatch, calls)
    barrier = threading.Barrier(4)

    def ask(_):
        barrier.wait()
        return model.embed_query(QUERY)

    with ThreadPoolExecutor(4) as pool:
        vectors = list(pool.map(ask, range(4)))
    assert calls == [[QUERY]]
    assert all(v is vectors[0] for v in vectors) and not vectors[0].flags.writeable
    assert np.isclose(float(np.linalg.norm(vectors[0])), 1.0, atol=1e-4)
    assert model.embed_query(QUERY) is vectors[0] and calls == [[QUERY]]  # remembered


def test_a_failed_encode_reaches_every_waiter_and_is_not_remembered(model, monkeypatch):
    model.forget_queries()
    calls: list[list[str]] = []
    _slow(model, monkeypatch, calls, fail=True)
    barrier = threading.Barrier(3)

    def ask(_):
        barrier.wait()
        try:
            model.embed_query(QUERY)
        except RuntimeError as exc:
            return str(exc)
        return "no error"

    with ThreadPoolExecutor(3) as pool:
        assert list(pool.map(ask, range(3))) == ["model broke"] * 3
    assert calls == [[QUERY]]
    monkeypatch.undo()
    assert model.embed_query(QUERY).shape == (model.dims,)  # the failure left nothing pending
