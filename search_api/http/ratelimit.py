"""Token buckets, one per caller, in this process.

A bucket holds up to `burst` tokens and gains `per_second` of them continuously; a request takes
one or is refused with the time until the next. The table forgets its least recently used
callers beyond `max_callers` (an address space is large): a forgotten caller starts again with
a full bucket, which errs towards letting a request through, never towards refusing one.

In-process means per worker: with N gunicorn workers a caller may get up to N times the rate,
depending on how connections are spread. A global limit needs shared state (a Redis-backed
limiter, or the reverse proxy's own limit such as nginx `limit_req`) and is not done here.

Why not flask-limiter/`limits`: they count fixed, moving or sliding windows; a bucket with a
separate rate and burst, a Retry-After to the next token and a clock a test can drive is ~40
lines.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from search_api.core.rates import RateSpec

MAX_CALLERS = 100_000
"""Buckets kept per table (~100 bytes each)."""


class Buckets:
    """One token bucket per caller key, sharing one `RateSpec`; thread-safe."""

    def __init__(self, spec: RateSpec, *, clock: Callable[[], float] = time.monotonic,
                 max_callers: int = MAX_CALLERS) -> None:
        self.spec, self.clock, self.max_callers = spec, clock, max_callers
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # caller → (tokens, at)
        self._lock = threading.Lock()

    def take(self, caller: str) -> float:
        """Take a token for `caller`: 0.0 when granted, else the seconds until one is available."""
        spec = self.spec
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.pop(caller, (float(spec.burst), now))
            tokens = min(float(spec.burst), tokens + max(0.0, now - at) * spec.per_second)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / spec.per_second
            self._buckets[caller] = (tokens, now)
            if len(self._buckets) > self.max_callers:
                self._buckets.popitem(last=False)
        return wait


def retry_after(wait: float) -> int:
    """`Retry-After` seconds for a wait: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(wait))
