"""A circuit breaker: stop calling a dependency that cannot be reached, and probe for its return.

    closed ──(`failures` connection failures in a row)──► open ──(`reset_s` later)──► half-open
      ▲                                                     ▲                           │
      └─────────────────── probe succeeded ─────────────────┼──── probe failed ─────────┘

While open, `allow()` says no at once, so a search answers 503 in microseconds instead of paying
a connection attempt (or a connect timeout) per Elasticsearch call. Half-open lets exactly one
call through as a probe; the others keep failing fast until it reports. With a `probe` function
the probe is not a caller's call but that function, run in a thread of its own: then every call
fails fast while the dependency is away, even when it comes back slowly (a restarting
Elasticsearch answers its first requests with slow 503s: a search that was the probe waited
1.5 s for one on a loaded machine). Only the caller decides
what counts as a failure: the Elasticsearch guard counts "could not connect" and "unavailable"
answers, never a slow query, so slow queries cannot open the circuit.

pybreaker holds its lock for the whole protected call (every call to Elasticsearch would be
serialised) and circuitbreaker has no lock at all, so this small one holds its lock only to
change state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import Enum


class State(Enum):
    """Where the breaker is; the value is how /healthz and logs spell it."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class Breaker:
    """Thread-safe; every allowed call must end in exactly one `succeeded`/`failed`/`inconclusive`."""

    def __init__(self, *, failures: int, reset_s: float, clock: Callable[[], float] = time.monotonic,
                 probe: Callable[[], bool] | None = None) -> None:
        """Open after `failures` consecutive failures; probe again `reset_s` after opening.

        `probe` (True: the dependency is back) runs in the background instead of a caller's call.
        """
        if failures < 1 or reset_s < 0:
            raise ValueError("failures must be >= 1 and reset_s >= 0")
        self.failures = failures
        self.reset_s = reset_s
        self.probe = probe
        self._clock = clock
        self._lock = threading.Lock()
        self._state = State.CLOSED
        self._consecutive = 0
        self._opened_at = 0.0

    @property
    def state(self) -> State:
        """The state now (an open breaker whose reset time has come still says open until probed)."""
        return self._state

    def retry_in(self) -> float:
        """Seconds until the next probe may go out (0 unless open)."""
        with self._lock:
            if self._state is not State.OPEN:
                return 0.0
            return max(0.0, self._opened_at + self.reset_s - self._clock())

    def allow(self) -> bool:
        """Whether a call may go out now; an open breaker past its reset time probes (see `probe`)."""
        with self._lock:
            if self._state is State.CLOSED:
                return True
            if self._state is not State.OPEN or self._clock() < self._opened_at + self.reset_s:
                return False
            self._state = State.HALF_OPEN
            probe = self.probe
        if probe is None:
            return True  # this caller is the probe
        threading.Thread(target=self._run_probe, args=(probe,), name="breaker-probe", daemon=True).start()
        return False

    def _run_probe(self, probe: Callable[[], bool]) -> None:
        try:
            back = probe()
        except Exception:  # noqa: BLE001 - whatever went wrong, the dependency is not back
            back = False
        (self.succeeded if back else self.failed)()

    def succeeded(self) -> None:
        """The dependency answered: close (whether or not this call was the probe)."""
        with self._lock:
            self._state, self._consecutive = State.CLOSED, 0

    def failed(self) -> None:
        """The dependency could not be reached: count it; a failed probe reopens at once."""
        with self._lock:
            self._consecutive += 1
            if self._state is State.OPEN:
                return  # a straggler that left before the breaker opened: the probe time stays
            if self._state is State.HALF_OPEN or self._consecutive >= self.failures:
                self._state, self._opened_at = State.OPEN, self._clock()

    def inconclusive(self) -> None:
        """The call said nothing about reachability (e.g. a read timeout): a probe's turn passes on."""
        with self._lock:
            if self._state is State.HALF_OPEN:
                self._state, self._opened_at = State.OPEN, self._clock()
