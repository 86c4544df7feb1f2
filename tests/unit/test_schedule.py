"""Leg scheduling: which leg runs on which thread, and which status each outcome gets."""

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest

from indexer.core.errors import EngineError
from search_api.core.settings import ApiSettings
from search_api.personal.profile import EMPTY, Profile
from search_api.retrieval import keyword
from search_api.retrieval.budget import Deadline, LegTimeout
from search_api.retrieval.legs import LegResult, LegState, LegStatus
from search_api.retrieval.params import Mode, SearchRequest
from search_api.retrieval.replica import Loaded
from search_api.retrieval.schedule import (
    build_profile,
    encode_query,
    keyword_outcome,
    personal_then_keyword,
    profile_leg,
    run_legs,
)
from search_api.synonyms.store import SynonymStore
from tests.fakes import HashEmbedder

TASTE = np.array([1.0, 0.0], dtype=np.float32)
PROFILE = Profile(TASTE, (("B1", 1.0),), (), 1, 1, None)


class FakeVectors:
    """Two-dimensional vectors for a few ids; `search` answers a fixed list."""

    rows = {"a": [1.0, 0.0], "b": [0.8, 0.6], "c": [0.0, 1.0]}
    manifest = SimpleNamespace(model=HashEmbedder.model_id)

    def search(self, query, size):
        return [("s1", 0.9), ("s2", 0.8)][:size]

    def vectors(self, ids):
        found = [i for i in ids if i in self.rows]
        return found, np.array([self.rows[i] for i in found], dtype=np.float32).reshape(len(found), 2)


class BrokenEmbedder(HashEmbedder):
    def embed_query(self, text):
        raise RuntimeError("model gone")


class FakeES:
    """Stands in for the client: remembers the request timeout each leg's call was given."""

    def __init__(self):
        self.timeouts = []

    def options(self, *, request_timeout):
        self.timeouts.append(request_timeout)
        return self


def later() -> Deadline:
    """A deadline far enough away never to pass during a test (made per call, not at import)."""
    return Deadline.after_ms(60_000)


@pytest.fixture
def encode_pool():
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="encode")
    yield pool
    pool.shutdown(wait=False, cancel_futures=True)


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


def test_encode_query_statuses(encode_pool):
    rt = SimpleNamespace(embedder=HashEmbedder(2), encode_pool=encode_pool)
    live = Loaded("i", FakeVectors())
    assert encode_query(rt, SearchRequest(q="pillow", mode=Mode.KEYWORD), live, later()) == (None, None)
    vector, status = encode_query(rt, SearchRequest(q="pillow"), live, later())
    assert vector is not None and status.render() == "ok"
    assert encode_query(rt, SearchRequest(q="抱枕"), live, later())[1].render() == "skipped: model does not cover zh"
    assert encode_query(rt, SearchRequest(q="pillow"), Loaded("i", None, "snapshot missing"), later())[1].render() \
        == "failed: snapshot missing"
    broken = SimpleNamespace(embedder=BrokenEmbedder(2), encode_pool=encode_pool)
    assert encode_query(broken, SearchRequest(q="pillow"), live, later()) == (None, LegStatus.failure("RuntimeError"))
    other = FakeVectors()
    other.manifest = SimpleNamespace(model="use-multilingual-v3")  # built by another model: another space
    assert encode_query(rt, SearchRequest(q="pillow"), Loaded("i", other), later())[1].render() \
        == "failed: vectors are use-multilingual-v3's, the query model is hash-test: rebuild"


def test_a_stalled_encode_times_out_at_the_semantic_deadline(encode_pool):
    release = threading.Event()

    class StalledEmbedder(HashEmbedder):
        def embed_query(self, text):
            release.wait(10)
            return super().embed_query(text)

    rt = SimpleNamespace(embedder=StalledEmbedder(2), encode_pool=encode_pool)
    started = time.monotonic()
    try:
        got = encode_query(rt, SearchRequest(q="pillow"), Loaded("i", FakeVectors()), Deadline.after_ms(100))
    finally:
        release.set()
    assert got == (None, LegStatus.timeout()) and got[1].render() == "failed: timeout"
    assert 0.09 <= time.monotonic() - started < 1.0


def done(value=None, exc=None):
    future = Future()
    future.set_exception(exc) if exc else future.set_result(value)
    return future


def test_keyword_outcome_statuses():
    leg = LegResult(["a"], [1.0], 1)
    assert keyword_outcome(done(leg), None, later()) == (leg, LegStatus(LegState.OK))
    assert keyword_outcome(done(leg), PROFILE, later()) == (leg, LegStatus(LegState.PERSONALISED))
    assert keyword_outcome(done(None), PROFILE, later()) == (None, None)  # the thread only built the profile
    failed = keyword_outcome(done(exc=EngineError("keyword search failed: HTTP 500")), None, later())
    assert failed == (None, LegStatus.failure("keyword search failed: HTTP 500"))
    with pytest.raises(ValueError):  # only engine errors are a failed leg; bugs surface
        keyword_outcome(done(exc=ValueError("bug")), None, later())
    pending = Future()
    started = time.monotonic()
    assert keyword_outcome(pending, None, Deadline.after_ms(50)) == (None, LegStatus.timeout())
    assert 0.04 <= time.monotonic() - started < 1.0
    assert pending.cancelled()  # a keyword leg still queued never runs


def test_profile_leg_stands_in_only_for_a_skipped_semantic_leg_of_a_hybrid_search():
    rt = SimpleNamespace(settings=ApiSettings(understand=False))
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


def test_profile_is_built_on_the_pool_thread_while_the_query_encodes(monkeypatch, encode_pool):
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

    def keyword_search(es, index, req, *, size, functions, max_boost, **_options):
        seen["keyword"], seen["functions"] = threading.current_thread().name, functions
        return LegResult(["k1", "s1"], [2.0, 1.0], 7)

    monkeypatch.setattr(keyword, "search", keyword_search)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="leg")
    rt = SimpleNamespace(settings=ApiSettings(personal_alpha=0.0, understand=False), embedder=SignallingEmbedder(2), es=FakeES(),
                         pool=pool, encode_pool=encode_pool, profiles=SimpleNamespace(for_user=for_user),
                         synonyms=SynonymStore(None))
    try:
        retrieved = run_legs(rt, SearchRequest(q="pillow", user_id="u"), Loaded("i", FakeVectors()))
    finally:
        pool.shutdown()
    assert seen["profile"].startswith("leg") and seen["keyword"] == seen["profile"]
    assert seen["encode"].startswith("encode") and seen["functions"]  # boosted by the profile
    assert {n: s.render() for n, s in retrieved.statuses.items()} == {
        "personal": "ok", "semantic": "ok", "keyword": "ok (personalised)"}
    assert list(retrieved.statuses) == ["personal", "semantic", "keyword"]
    assert list(retrieved.results) == ["semantic", "keyword"] and retrieved.personal is PROFILE


def budget_runtime(encode_pool, pool, *, keyword_ms=150, semantic_ms=2000, for_user=None):
    settings = ApiSettings(understand=False, keyword_budget_ms=keyword_ms, semantic_budget_ms=semantic_ms)
    return SimpleNamespace(settings=settings, embedder=HashEmbedder(2), es=FakeES(), pool=pool, synonyms=SynonymStore(None),
                           encode_pool=encode_pool, profiles=SimpleNamespace(for_user=for_user))


def test_a_slow_keyword_leg_does_not_hold_the_answer(monkeypatch, encode_pool):
    release, calls = threading.Event(), []

    def slow_keyword(es, index, req, *, size, functions, max_boost, **_options):
        calls.append(es.timeouts[-1])
        release.wait(10)  # Elasticsearch stalled past the budget
        return LegResult(["k1"], [1.0], 1)

    monkeypatch.setattr(keyword, "search", slow_keyword)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leg")
    rt = budget_runtime(encode_pool, pool)
    started = time.monotonic()
    try:
        retrieved = run_legs(rt, SearchRequest(q="pillow"), Loaded("i", FakeVectors()))
        elapsed = time.monotonic() - started
    finally:
        release.set()
        pool.shutdown()
    assert 0.14 <= elapsed < 1.0, elapsed
    assert {n: s.render() for n, s in retrieved.statuses.items()} == {"semantic": "ok", "keyword": "failed: timeout"}
    assert list(retrieved.results) == ["semantic"] and retrieved.failed == ["keyword"]
    assert len(calls) == 1 and 0 < calls[0] <= 0.15  # the ES call was given only the budget that was left


def test_a_keyword_call_cut_by_its_timeout_is_a_timeout_not_engine_text(monkeypatch):
    def cut_short(es, index, req, *, size, functions, max_boost, **_options):
        time.sleep(es.timeouts[-1])  # what the client does with the request timeout it was given
        raise EngineError("keyword search failed: Elasticsearch unreachable (Connection timed out)")

    def refused(es, index, req, *, size, functions, max_boost, **_options):
        raise EngineError("keyword search failed: HTTP 400 parsing_exception")

    rt = SimpleNamespace(settings=ApiSettings(understand=False), es=FakeES())
    box = done((None, None))
    monkeypatch.setattr(keyword, "search", cut_short)
    with pytest.raises(LegTimeout):
        personal_then_keyword(rt, SearchRequest(q="pillow"), "i", box, Deadline.after_ms(50))
    monkeypatch.setattr(keyword, "search", refused)  # within the budget an engine error stays one
    with pytest.raises(EngineError):
        personal_then_keyword(rt, SearchRequest(q="pillow"), "i", box, later())
    with pytest.raises(LegTimeout):  # past the deadline the call is not even made
        personal_then_keyword(rt, SearchRequest(q="pillow"), "i", box, Deadline.after_ms(0))
    assert len(rt.es.timeouts) == 2


def test_a_slow_profile_times_out_and_the_keyword_leg_is_not_started_late(monkeypatch, encode_pool):
    release, called = threading.Event(), []

    def slow_profile(user):
        release.wait(10)
        return PROFILE

    monkeypatch.setattr(keyword, "search", lambda *a, **k: called.append(1) or LegResult([], [], 0))
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leg")
    rt = budget_runtime(encode_pool, pool, keyword_ms=100, for_user=slow_profile)
    started = time.monotonic()
    retrieved = run_legs(rt, SearchRequest(q="pillow", user_id="u"), Loaded("i", FakeVectors()))
    elapsed = time.monotonic() - started
    release.set()
    pool.shutdown()  # waits for the pool thread: it must have skipped the keyword call
    assert elapsed < 1.0
    assert {n: s.render() for n, s in retrieved.statuses.items()} == {
        "personal": "failed: timeout", "semantic": "ok", "keyword": "failed: timeout"}
    assert retrieved.personal is None and list(retrieved.results) == ["semantic"]
    assert not called


def test_a_budget_that_is_not_exceeded_changes_nothing(monkeypatch, encode_pool):
    monkeypatch.setattr(keyword, "search", lambda *a, **k: LegResult(["k1"], [1.0], 1))
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leg")
    try:
        retrieved = run_legs(budget_runtime(encode_pool, pool, keyword_ms=5000), SearchRequest(q="pillow"),
                             Loaded("i", FakeVectors()))
    finally:
        pool.shutdown()
    assert not retrieved.failed and list(retrieved.results) == ["semantic", "keyword"]


def test_loading_the_model_on_a_first_search_is_not_counted_against_the_budget(monkeypatch, encode_pool):
    class TakesItsTime(HashEmbedder):
        def embed_query(self, text):
            time.sleep(0.02)  # a forward pass
            return super().embed_query(text)

    class FirstSearchRuntime(SimpleNamespace):
        loaded = None

        @property
        def embedder(self):
            if self.loaded is None:
                time.sleep(0.3)  # the model loads on first use, longer than the budget
                self.loaded = TakesItsTime(2)
            return self.loaded

    monkeypatch.setattr(keyword, "search", lambda *a, **k: LegResult(["k1"], [1.0], 1))
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leg")
    rt = FirstSearchRuntime(settings=ApiSettings(understand=False, keyword_budget_ms=100, semantic_budget_ms=100), es=FakeES(),
                            pool=pool, encode_pool=encode_pool, synonyms=SynonymStore(None))
    try:
        retrieved = run_legs(rt, SearchRequest(q="pillow"), Loaded("i", FakeVectors()))
    finally:
        pool.shutdown()
    assert not retrieved.failed and list(retrieved.results) == ["semantic", "keyword"]


@pytest.mark.parametrize("req", [SearchRequest(q="pillow", mode=Mode.KEYWORD), SearchRequest(q="抱枕")],
                         ids=["keyword mode", "query the model cannot read"])
def test_a_keyword_leg_that_alone_can_answer_is_not_cut(monkeypatch, encode_pool, req):
    """Cutting it would turn a late answer into a 503: there is no other leg to answer with."""
    def slow_keyword(es, index, r, *, size, functions, max_boost, **_options):
        time.sleep(0.3)  # a keyword leg slower than its 50 ms budget: the behaviour under test
        return LegResult(["k1"], [1.0], 1)

    monkeypatch.setattr(keyword, "search", slow_keyword)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leg")
    rt = budget_runtime(encode_pool, pool, keyword_ms=50)
    try:
        retrieved = run_legs(rt, req, Loaded("i", FakeVectors()))
    finally:
        pool.shutdown()
    assert retrieved.statuses["keyword"].render() == "ok" and "keyword" in retrieved.results
    assert rt.es.timeouts == []  # the call keeps the client's own request timeout
