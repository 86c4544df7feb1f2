"""The cluster-wide locks on the real stack: heartbeats, a dead owner's takeover, writers waiting out a clone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from elasticsearch import ApiError

from indexer.build import reuse
from indexer.build.changes import upsert
from indexer.build.pipeline import BuildOptions, build
from indexer.core.errors import LockedError
from indexer.store import locks, state
from indexer.store.locks import BUILD_LOCK, WRITE_LOCK, Lock
from indexer.store.versions import alias_target
from tests.commands import command_env
from tests.serving import REPO

pytestmark = pytest.mark.integration

WAIT_S = 60.0
"""Deadline of every wait on progress below (heartbeats, a process starting, threads arriving)."""


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _until(check, what: str):
    """Poll `check()` until it returns something truthy, for at most WAIT_S seconds."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if got := check():
            return got
        time.sleep(0.1)
    pytest.fail(f"{what}: not within {WAIT_S:.0f} s")


def _owner(es, settings, name):
    return state.read(es, settings, name).source


def test_a_long_holder_keeps_its_lock_past_the_stale_time(es, isolated):
    settings = isolated.with_(lock_stale_seconds=2.0)  # heartbeat every 0.5 s
    with Lock(es, settings, BUILD_LOCK, purpose="a long build") as held:
        taken = _owner(es, settings, BUILD_LOCK)["heartbeat"]
        # held for twice the stale time, and the stored heartbeat kept up with it
        _until(lambda: _owner(es, settings, BUILD_LOCK)["heartbeat"] >= taken + 2 * settings.lock_stale_seconds,
               "the heartbeat renewed the lock")
        with pytest.raises(LockedError, match="held by a long build"):
            Lock(es, settings, BUILD_LOCK, purpose="the next build").acquire()
        assert held.lost is None and _owner(es, settings, BUILD_LOCK)["purpose"] == "a long build"
    assert not state.read(es, settings, BUILD_LOCK).exists


HOLDER = """
import sys
from indexer.core.config import Settings
from indexer.core.es import make_client
from indexer.store.locks import BUILD_LOCK, Lock

settings = Settings.from_env()
Lock(make_client(settings), settings, BUILD_LOCK, purpose="a build about to be killed").acquire()
sys.stdin.read()  # holds the lock, heartbeat running, until killed
"""


def test_the_build_lock_of_a_killed_process_is_taken_over(es, isolated, caplog):
    settings = isolated.with_(lock_stale_seconds=3600.0)  # its heartbeat stays fresh: only the dead pid counts
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], env=command_env(settings), cwd=REPO,
                              stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        def taken():
            assert holder.poll() is None, holder.communicate()[1].decode(errors="replace")[-2000:]
            return _owner(es, settings, BUILD_LOCK)

        owner = _until(taken, "the holder took the build lock")
        assert owner["pid"] == holder.pid
        with pytest.raises(LockedError, match="a build about to be killed"):
            Lock(es, settings, BUILD_LOCK, purpose="the next build").acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate()  # reaped: its pid is gone
    with Lock(es, settings, BUILD_LOCK, purpose="the next build"):
        owner = _owner(es, settings, BUILD_LOCK)
        assert (owner["purpose"], owner["pid"]) == ("the next build", os.getpid())
    assert f"process {holder.pid} on this host is gone" in caplog.text


UPSERTS = 4


def test_upserts_during_a_clones_write_block_wait_and_then_land(es, isolated, model, tmp_path, monkeypatch):
    rows = [{"id": f"b{i}", "title": f"bamboo cutting board {i}", "brand": "Grove"} for i in range(50)]
    source = _jsonl(tmp_path / "v1.jsonl", rows)
    first = build(isolated, es, model, BuildOptions(products=(source,), progress=False))
    arrivals = [_jsonl(tmp_path / f"u{n}.jsonl", [{"id": f"late{n}", "title": f"alpaca wool throw {n}"}])
                for n in range(UPSERTS)]
    waiting: set[int] = set()
    arrived = threading.Condition()
    stale = locks._stale

    def spy(owner, stale_after):  # observes, changes nothing: an upsert found the clone holding the lock
        why = stale(owner, stale_after)
        if why is None and str(owner.get("purpose")).startswith("clone "):
            with arrived:
                waiting.add(threading.get_ident())
                arrived.notify_all()
        return why

    pool = ThreadPoolExecutor(UPSERTS)
    upserts, unguarded = [], []
    lift = reuse.lift_write_block

    def during_the_block(client, index):  # the clone is made, the live index still write-blocked
        try:
            es.index(index=index, id="unguarded", document={"id": "unguarded", "title": "x"})
        except ApiError as exc:
            unguarded.append(str(exc))
        upserts.extend(pool.submit(upsert, isolated, es, model, [path]) for path in arrivals)
        with arrived:
            arrived.wait_for(lambda: len(waiting) == UPSERTS, timeout=WAIT_S)
        lift(client, index)

    monkeypatch.setattr(locks, "_stale", spy)
    monkeypatch.setattr(reuse, "lift_write_block", during_the_block)
    try:
        rebuilt = build(isolated, es, model, BuildOptions(products=(source,), progress=False))
        reports = [f.result(timeout=WAIT_S) for f in upserts]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    assert rebuilt.base == first.products_index and len(waiting) == UPSERTS  # each upsert waited for the clone
    assert len(unguarded) == 1 and "cluster_block_exception" in unguarded[0]  # a write that did not wait: refused
    assert [(r.written, r.failures) for r in reports] == [(1, [])] * UPSERTS
    assert alias_target(es, isolated.products_alias) == rebuilt.products_index
    # none lost: each is in the new live version with its vector, whether replayed or written after the swap
    found = es.mget(index=isolated.products_alias, ids=[f"late{n}" for n in range(UPSERTS)])["docs"]
    assert [d["found"] and d["_source"]["has_vector"] for d in found] == [True] * UPSERTS
    assert es.count(index=isolated.products_alias)["count"] == len(rows) + UPSERTS
    assert not state.read(es, isolated, WRITE_LOCK).exists
