"""The circuit breaker's states, on a clock the test moves."""

from __future__ import annotations

import threading

import pytest

from search_api.core.breaker import Breaker, State


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_consecutive_failures_only():
    clock = Clock()
    breaker = Breaker(failures=3, reset_s=2.0, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.failed()
    assert breaker.allow()
    breaker.succeeded()  # a success in between starts the count again
    for _ in range(2):
        breaker.failed()
    assert breaker.state is State.CLOSED and breaker.allow()
    breaker.failed()
    assert breaker.state is State.OPEN and not breaker.allow()
    assert breaker.retry_in() == pytest.approx(2.0)


def test_half_open_lets_one_probe_through_and_its_result_decides():
    clock = Clock()
    breaker = Breaker(failures=1, reset_s=2.0, clock=clock)
    breaker.failed()
    clock.now += 1.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.allow() and breaker.state is State.HALF_OPEN
    assert not breaker.allow()  # only the probe goes out
    breaker.failed()  # the probe failed: open again for another reset_s
    assert breaker.state is State.OPEN and not breaker.allow()
    clock.now += 2.0
    assert breaker.allow()
    breaker.succeeded()
    assert breaker.state is State.CLOSED and breaker.allow() and breaker.allow()


def test_an_inconclusive_probe_passes_the_turn_on():
    clock = Clock()
    breaker = Breaker(failures=1, reset_s=1.0, clock=clock)
    breaker.failed()
    clock.now += 1.0
    assert breaker.allow()
    breaker.inconclusive()  # e.g. a read timeout: not proof either way
    assert breaker.state is State.OPEN and not breaker.allow()
    breaker.inconclusive()  # outside half-open it changes nothing
    assert breaker.state is State.OPEN
    clock.now += 1.0
    assert breaker.allow()


def test_a_straggler_failing_after_the_breaker_opened_does_not_postpone_the_probe():
    clock = Clock()
    breaker = Breaker(failures=1, reset_s=1.0, clock=clock)
    breaker.failed()
    clock.now += 0.9
    breaker.failed()
    clock.now += 0.1
    assert breaker.allow()


def test_concurrent_callers_get_exactly_one_probe():
    clock = Clock()
    breaker = Breaker(failures=1, reset_s=0.0, clock=clock)
    breaker.failed()
    allowed: list[bool] = []
    threads = [threading.Thread(target=lambda: allowed.append(breaker.allow())) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 1


def test_bad_arguments():
    with pytest.raises(ValueError):
        Breaker(failures=0, reset_s=1.0)


def test_a_probe_function_runs_in_the_background_while_every_caller_fails_fast():
    clock, started, release, outcome = Clock(), threading.Event(), threading.Event(), [False]

    def probe() -> bool:
        started.set()
        release.wait(5)
        return outcome[0]

    breaker = Breaker(failures=1, reset_s=1.0, clock=clock, probe=probe)
    breaker.failed()
    clock.now += 1.0
    assert not breaker.allow() and started.wait(5)  # the caller did not become the probe
    assert breaker.state is State.HALF_OPEN and not breaker.allow()
    release.set()  # the probe says: not back
    _await(lambda: breaker.state is State.OPEN)
    assert not breaker.allow()
    release.clear()
    started.clear()
    outcome[0] = True
    clock.now += 1.0
    assert not breaker.allow() and started.wait(5)
    release.set()
    _await(lambda: breaker.state is State.CLOSED)
    assert breaker.allow()


def _await(condition) -> None:  # type: ignore[no-untyped-def]
    for _ in range(500):
        if condition():
            return
        threading.Event().wait(0.01)
    raise AssertionError("condition not reached in 5 s")
