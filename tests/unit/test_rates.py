"""Rate specs, token buckets (driven by a fake clock) and the client address a limit is keyed by."""

from __future__ import annotations

import pytest

from search_api.core.rates import RateSpec, parse_rate
from search_api.http.access import client_address
from search_api.http.ratelimit import Buckets, retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("text", "spec"), [
    ("50/s burst 100", RateSpec(50.0, 100)), ("50/s", RateSpec(50.0, 50)), ("600/m", RateSpec(10.0, 600)),
    (" 2 / second  BURST 5 ", RateSpec(2.0, 5)), ("3600/h burst 1", RateSpec(1.0, 1)), ("0.5/s", RateSpec(0.5, 1)),
    ("off", None), ("OFF", None)])
def test_rate_specs(text, spec):
    assert parse_rate(text) == spec


@pytest.mark.parametrize("text", ["", "50", "50/d", "50/s burst", "50/s burst 0", "0/s", "-1/s", "50 per second",
                                  "50/s burst 1.5", "50/s, burst 100"])
def test_bad_rate_specs_say_the_expected_form(text):
    with pytest.raises(ValueError, match="50/s burst 100|positive"):
        parse_rate(text)


def test_a_burst_then_the_rate():
    clock = Clock()
    buckets = Buckets(RateSpec(per_second=2.0, burst=3), clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)  # empty: the next token in 1/rate
    clock.now += 0.25
    assert buckets.take("a") == pytest.approx(0.25)  # half a token back: a refusal costs nothing
    clock.now += 0.25
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0
    assert buckets.take("b") == 0.0  # callers do not share buckets


def test_an_idle_bucket_refills_only_up_to_its_burst():
    clock = Clock()
    buckets = Buckets(RateSpec(per_second=10.0, burst=2), clock=clock)
    buckets.take("a")
    clock.now += 3600
    assert [buckets.take("a") > 0 for _ in range(3)] == [False, False, True]


def test_a_clock_going_backwards_adds_no_tokens():
    clock = Clock()
    buckets = Buckets(RateSpec(per_second=1.0, burst=1), clock=clock)
    buckets.take("a")
    clock.now -= 100
    assert buckets.take("a") == pytest.approx(1.0)


def test_the_table_forgets_its_least_recent_callers_with_a_full_bucket():
    clock = Clock()
    buckets = Buckets(RateSpec(per_second=1.0, burst=1), clock=clock, max_callers=2)
    for caller in ("a", "b"):
        assert buckets.take(caller) == 0.0
    assert buckets.take("a") > 0  # "a" is now the most recent
    buckets.take("c")  # evicts "b", keeps "a"
    assert buckets.take("a") > 0
    assert buckets.take("b") == 0.0  # a forgotten caller starts with a full bucket


@pytest.mark.parametrize(("wait", "seconds"), [(0.001, 1), (0.5, 1), (1.0, 1), (1.01, 2), (59.2, 60)])
def test_retry_after_is_whole_seconds_at_least_one(wait, seconds):
    assert retry_after(wait) == seconds


@pytest.mark.parametrize(("remote", "forwarded", "trusted", "address"), [
    ("10.0.0.9", [], 0, "10.0.0.9"),
    ("10.0.0.9", ["203.0.113.7"], 0, "10.0.0.9"),  # not trusted by default
    ("10.0.0.9", ["203.0.113.7"], 1, "203.0.113.7"),
    ("10.0.0.9", ["1.1.1.1, 203.0.113.7"], 1, "203.0.113.7"),  # the client wrote 1.1.1.1 itself
    ("10.0.0.9", ["1.1.1.1", "203.0.113.7"], 1, "203.0.113.7"),  # repeated headers are one list
    ("10.0.0.9", ["1.1.1.1, 203.0.113.7, 10.0.0.8"], 2, "203.0.113.7"),
    ("10.0.0.9", ["203.0.113.7"], 2, "10.0.0.9"),  # fewer hops than proxies: it did not come through them
    ("10.0.0.9", ["not-an-ip"], 1, "10.0.0.9"),
    ("10.0.0.9", ["203.0.113.7:51234"], 1, "203.0.113.7"),
    ("10.0.0.9", ["[2001:db8:1:2::7]:443"], 1, "2001:db8:1:2::/64"),
    ("2001:db8:1:2:aaaa::1", [], 0, "2001:db8:1:2::/64"),  # one subscriber's /64 is one caller
    ("::ffff:192.0.2.1", [], 0, "192.0.2.1"),
    (None, [], 0, "unknown"),
])
def test_client_address(remote, forwarded, trusted, address):
    assert client_address(remote, forwarded, trusted) == address
