"""Leg scheduling: which leg runs on which thread, and which status each outcome gets."""

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest

from indexer.core.errors import EngineError
from search_api.core.settings import ApiSettings
from search_api.personal.profile import EMPTY, Profile
from search_api.retrieval import keyword
from search_api.retrieval.legs import LegResult, LegState, LegStatus
from search_api.retrieval.params import Mode, SearchRequest
from search_api.retrieval.replica import Loaded
from search_api.retrieval.schedule import build_profile, encode_query, keyword_outcome, profile_leg, run_legs
from tests.fakes import HashEmbedder

TASTE = np.array([1.0, 0.0], dtype=np.float32)
PROFILE = Profile(TASTE, (("B1", 1.0),), (), 1, 1, None)


class FakeVectors:
    """Two-dimensional vectors for a few ids; `search` answers a fixed list."""

    rows = {"a": [1.0, 0.0], "b": [0.8, 0.6], "c": [0.0, 1.0]}

    def search(self, query, size):
        return [("s1", 0.9), ("s2", 0.8)][:size]

    def vectors(self, ids):
        found = [i for i in ids if i in self.rows]
        return found, np.array([self.rows[i] for i in found], dtype=np.float32).reshape(len(found), 2)


class BrokenEmbedder(HashEmbedder):
    def embed_query(self, text):
        raise RuntimeError("model gone")


def test_build_profile_statuses():
    profiles = SimpleNamespace(for_user=lambda user: PROFILE, from_history=lambda history: EMPTY)
    rt = SimpleNamespace(profiles=profiles)
    assert build_profile(rt, SearchRequest(q="x")) == (None, None)
    assert build_profile(rt, SearchRequest(q="x", user_id="u")) == (PROFILE, LegStatus(LegState.OK))
    assert build_profile(rt, SearchRequest(q="x", history=())) == (EMPTY, LegStatus(LegState.NO_HISTORY))

    def down(user):
        raise EngineError("events down")

    rt = SimpleNamespace(profiles=SimpleNamespace(for_user=down))
    assert build_profile(rt, SearchRequest(q="x", user_id="u")) == (None, LegStatus.failure("events down"))


def test_encode_query_statuses():
    rt = SimpleNamespace(embedder=HashEmbedder(2))
    live = Loaded("i", FakeVectors())
    assert encode_query(rt, SearchRequest(q="pillow", mode=Mode.KEYWORD), live) == (None, None)
    vector, status = encode_query(rt, SearchRequest(q="pillow"), live)
    assert vector is not None and status.render() == "ok"
    assert encode_query(rt, SearchRequest(q="抱枕"), live)[1].render() == "skipped: model does not cover zh"
    assert encode_query(rt, SearchRequest(q="pillow"), Loaded("i", None, "snapshot missing"))[1].render() \
        == "failed: snapshot missing"
    broken = SimpleNamespace(embedder=BrokenEmbedder(2))
    assert encode_query(broken, SearchRequest(q="pillow"), live) == (None, LegStatus.failure("RuntimeError"))


def done(value=None, exc=None):
    future = Future()
    future.set_exception(exc) if exc else future.set_result(value)
    return future


def test_keyword_outcome_statuses():
    leg = LegResult(["a"], [1.0], 1)
    assert keyword_outcome(done(leg), None) == (leg, LegStatus(LegState.OK))
    assert keyword_outcome(done(leg), PROFILE) == (leg, LegStatus(LegState.PERSONALISED))
    assert keyword_outcome(done(None), PROFILE) == (None, None)  # semantic mode: the thread only built the profile
    failed = keyword_outcome(done(exc=EngineError("keyword search failed: HTTP 500")), None)
    assert failed == (None, LegStatus.failure("keyword search failed: HTTP 500"))
    with pytest.raises(ValueError):  # only engine errors are a failed leg; bugs surface
        keyword_outcome(done(exc=ValueError("bug")), None)


def test_profile_leg_stands_in_only_for_a_skipped_semantic_leg_of_a_hybrid_search():
    rt = SimpleNamespace(settings=ApiSettings())
    live = Loaded("i", FakeVectors())
    skipped = {"semantic": LegStatus.skip("model does not cover zh")}
    results = {"keyword": LegResult(["c", "b", "a"], [3.0, 2.0, 1.0], 3)}
    req = SearchRequest(q="抱枕")
    leg = profile_leg(rt, req, live, TASTE, skipped, results)
    assert leg is not None and leg.ids[0] == "a"  # closest to the taste among the keyword candidates
    assert profile_leg(rt, req, live, None, skipped, results) is None
    assert profile_leg(rt, SearchRequest(q="抱枕", mode=Mode.KEYWORD), live, TASTE, skipped, results) is None
    assert profile_leg(rt, req, live, TASTE, {"semantic": LegStatus.failure("x")}, results) is None
    assert profile_leg(rt, req, live, TASTE, skipped, {}) is None
    assert profile_leg(rt, req, Loaded("i", None), TASTE, skipped, results) is None


def test_profile_is_built_on_the_pool_thread_while_the_request_thread_encodes(monkeypatch):
    encoded, seen = threading.Event(), {}

    class SignallingEmbedder(HashEmbedder):
        def embed_query(self, text):
            seen["encode"] = threading.current_thread().name
            encoded.set()
            return super().embed_query(text)

    def for_user(user):
        seen["profile"] = threading.current_thread().name
        if not encoded.wait(5):  # a sequential schedule would encode only after this returns
            raise AssertionError("the profile build did not overlap the query encoding")
        return PROFILE

    def keyword_search(es, index, req, *, size, functions, max_boost):
        seen["keyword"], seen["functions"] = threading.current_thread().name, functions
        return LegResult(["k1", "s1"], [2.0, 1.0], 7)

    monkeypatch.setattr(keyword, "search", keyword_search)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="leg")
    rt = SimpleNamespace(settings=ApiSettings(personal_alpha=0.0), embedder=SignallingEmbedder(2), es=None, pool=pool,
                         profiles=SimpleNamespace(for_user=for_user))
    try:
        retrieved = run_legs(rt, SearchRequest(q="pillow", user_id="u"), Loaded("i", FakeVectors()))
    finally:
        pool.shutdown()
    assert seen["profile"].startswith("leg") and seen["keyword"] == seen["profile"]
    assert seen["encode"] == threading.current_thread().name and seen["functions"]  # boosted by the profile
    assert {n: s.render() for n, s in retrieved.statuses.items()} == {
        "personal": "ok", "semantic": "ok", "keyword": "ok (personalised)"}
    assert list(retrieved.statuses) == ["personal", "semantic", "keyword"]
    assert list(retrieved.results) == ["semantic", "keyword"] and retrieved.personal is PROFILE
