"""Elasticsearch stalled, killed and restarted under a running search API (a node of the test's own).

A stalled node (SIGSTOP) makes the keyword leg late: the answer comes at its budget from the
semantic leg. A killed node (SIGKILL) under a small query load: every answer is a 200 or a fast
503, /readyz turns 503, and when the node is back searches answer 200 again without restarting
the API.
"""

from __future__ import annotations

import gc
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from indexer.build.pipeline import BuildOptions, build
from indexer.core.es import make_client
from indexer.sample import generate
from search_api.core.settings import ApiSettings
from search_api.http.app import create_app
from search_api.retrieval import keyword
from search_api.retrieval.runtime import Runtime
from tests.conftest import fresh_settings
from tests.es_node import LocalNode
from tests.waiting import poll

pytestmark = pytest.mark.integration

LOAD_SEEN = 5
"""Answers of each phase (before the kill, during the outage, after recovery) the load must have collected."""
QUERIES = ("pillow", "wireless earbuds", "skincare serum", "snacks", "抱枕")
ENGINE_WORDS = ("Connection refused", "NewConnectionError", "urllib3", "elastic_transport", "127.0.0.1")


@pytest.fixture(scope="module")
def node() -> Iterator[LocalNode]:
    own = LocalNode()
    own.run("start")
    try:
        yield own
    finally:
        own.close()


@pytest.fixture(scope="module")
def built(node, model, tmp_path_factory) -> ApiSettings:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("outage")
    catalog = generate.write(root / "catalog", 300, seed=5)
    settings = fresh_settings(node.url, root)
    es = make_client(settings)
    build(settings, es, model, BuildOptions(products=(catalog["products"],), progress=False))
    es.close()
    return settings


@contextmanager
def frozen_heap() -> Iterator[list[float]]:
    """The test process's heap frozen for the measurement; yields the collector's pauses (seconds).

    After a thousand tests the pytest process holds far more objects than a search worker: one
    full collection of that heap stalled every thread for ~1 s and made two 503s "slow" in a
    whole-suite run. Freezing (as a preloading server does after start) keeps the suite's garbage
    out of the timings; the pauses still taken are printed with the timeline.
    """
    pauses: list[float] = []
    began: list[float] = []

    def timed(phase: str, info: dict) -> None:
        if phase == "start":
            began.append(time.monotonic())
        elif began:
            pauses.append(time.monotonic() - began.pop())

    gc.collect()
    gc.freeze()
    gc.callbacks.append(timed)
    try:
        yield pauses
    finally:
        gc.callbacks.remove(timed)
        gc.unfreeze()


@dataclass(frozen=True)
class Answer:
    started: float
    status: int
    seconds: float
    body: dict


def test_a_stalled_node_makes_the_keyword_leg_late_not_the_answer(node, built, model, monkeypatch):
    budget_s = 0.3
    rt = Runtime(built.with_(keyword_budget_ms=int(budget_s * 1000), alias_check_seconds=3600.0), embedder=model)
    client = create_app(runtime=rt).test_client()
    assert client.get("/search", query_string={"q": "pillow"}).status_code == 200  # replica and cache warm
    calls: list[tuple[float, float]] = []
    real_search, returned = keyword.search, threading.Event()

    def timed_search(*args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.monotonic()
        try:
            return real_search(*args, **kwargs)
        finally:
            calls.append((started, time.monotonic()))
            returned.set()

    monkeypatch.setattr(keyword, "search", timed_search)
    answers: list = []
    node.signal(signal.SIGSTOP)  # the node hangs: connections open, nothing answers
    try:
        searching = threading.Thread(target=lambda: answers.append(client.get("/search", query_string={"q": "pillow"})))
        searching.start()
        assert returned.wait(budget_s + 30), "the keyword call to the stalled node never returned"
    finally:
        resumed = time.monotonic()
        node.signal(signal.SIGCONT)  # the rest of the answer (page fetch) needs it again
    searching.join(60)
    response = answers[0]
    assert response.status_code == 200, response.get_json()
    meta = response.get_json()["meta"]
    assert meta["degraded"] is True and meta["legs"] == {"semantic": "ok", "keyword": "failed: timeout"}
    assert response.get_json()["results"]
    (started, ended), = calls
    assert ended < resumed and ended - started <= budget_s + 0.25  # the ES call was cut at the budget


def test_killed_node_gives_200_or_fast_503_then_recovers_without_restart(node, built, model):
    rt = Runtime(built.with_(alias_check_seconds=1.0), embedder=model)  # its own fail-fast client
    client = create_app(runtime=rt).test_client()
    for q in QUERIES:  # query vectors cached: the load measures the API, not the model
        assert client.get("/search", query_string={"q": q, "size": 5}).status_code == 200
    assert client.get("/readyz").status_code == 200
    answers: list[Answer] = []
    stop = threading.Event()

    def load(offset: int) -> None:
        for i in range(offset, offset + 20_000):  # bounded; ends at `stop` long before
            if stop.is_set():
                return
            started = time.monotonic()
            response = client.get("/search", query_string={"q": QUERIES[i % len(QUERIES)], "size": 5})
            answers.append(Answer(started, response.status_code, time.monotonic() - started, response.get_json()))
            stop.wait(0.05)

    threads = [threading.Thread(target=load, args=(n,)) for n in range(3)]
    with frozen_heap() as pauses:
        for t in threads:
            t.start()
        try:
            answered(answers, lambda a: a.status == 200, LOAD_SEEN, "answers before the kill")
            killed = time.monotonic()
            node.kill()
            not_ready = _first(lambda: client.get("/readyz"), lambda r: r.status_code == 503, within=10)
            assert not_ready[1].get_json() == {"ready": False, "reason": "Elasticsearch unavailable"}
            probed = killed + rt.settings.es_breaker_reset_s  # the outage outlasts a half-open probe of the breaker
            answered(answers, lambda a: a.started > probed and a.status == 503, LOAD_SEEN, "503s after a probe")
            restarting = time.monotonic()
            node.run("start")  # same data directory: the index and its alias are back after recovery
            restarted = time.monotonic()
            recovered = _first(lambda: client.get("/search", query_string={"q": "pillow", "size": 5}),
                               lambda r: r.status_code == 200, within=30)
            answered(answers, lambda a: a.started > recovered[0] and a.status == 200, LOAD_SEEN,
                     "answers from the recovered node")
        finally:
            stop.set()
            for t in threads:
                t.join(30)
    assert recovered[0] - restarted < 30
    assert client.get("/readyz").status_code == 200

    timeline = [(round(a.started - killed, 2), a.status, round(a.seconds, 3)) for a in answers if a.seconds > 0.5]
    print(f"\nkilled at 0, restart began {restarting - killed:.2f}, node answered {restarted - killed:.2f}; "
          f"answers over 0.5 s (start, status, seconds): {timeline}; {len(pauses)} collections, "
          f"longest {max(pauses, default=0.0):.3f} s")
    statuses = {a.status for a in answers}
    assert statuses == {200, 503}, statuses
    slowest = max(a.seconds for a in answers)
    assert slowest <= 2.0, f"slowest answer {slowest:.2f} s"
    unavailable = [a for a in answers if a.status == 503]
    assert max(a.seconds for a in unavailable) <= 1.0
    assert all(a.body["error"]["code"] == "search_unavailable" for a in unavailable)
    assert not [w for w in ENGINE_WORDS if any(w in str(a.body) for a in unavailable)]
    assert any(a.status == 200 for a in answers if a.started < killed)
    assert any(a.status == 200 for a in answers if a.started > recovered[0])
    print(f"\n{len(answers)} answers: {len(unavailable)} × 503 (max {max(a.seconds for a in unavailable):.3f} s), "
          f"slowest {slowest:.3f} s; not ready {not_ready[0] - killed:.2f} s after the kill; "
          f"200 again {recovered[0] - restarted:.2f} s after the node answered")


def _first(call, ok, *, within: float):  # type: ignore[no-untyped-def]
    """(when, response) of the first `call()` whose response is `ok`, polling for `within` seconds."""
    def attempt():  # type: ignore[no-untyped-def]
        response = call()
        return (time.monotonic(), response) if ok(response) else None

    return poll(attempt, within=within, what="the awaited answer", every=0.1)


def answered(answers: list[Answer], kind, count: int, what: str) -> None:  # type: ignore[no-untyped-def]
    """Wait until the load threads have collected `count` answers of `kind` (a phase of the outage has had load)."""
    poll(lambda: sum(1 for a in list(answers) if kind(a)) >= count, within=60, what=f"{count} {what}")
