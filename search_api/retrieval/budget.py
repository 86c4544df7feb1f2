"""Leg time budgets: each leg of a search has a deadline, and nobody waits for a leg past it.

A leg that runs out of time is reported `failed: timeout` and the answer is built from the
others (`meta.degraded`). The waiting side gives up at the deadline and cancels work that has
not started; the working side checks the deadline before it starts an Elasticsearch call and
gives that call only the time that is left, so a late call is cut short by the client (and,
its connection closed, cancelled by Elasticsearch) instead of holding a pool thread.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

MIN_CALL_S = 0.001
"""The shortest request timeout handed to a call (0 would mean "no timeout" to some clients)."""


class LegTimeout(Exception):
    """A leg ran out of its time budget."""


@dataclass(frozen=True)
class Deadline:
    """A point in `time.monotonic()` time by which a leg must have answered."""

    at: float

    @classmethod
    def after_ms(cls, budget_ms: float, *, start: float | None = None) -> Deadline:
        """The deadline `budget_ms` after `start` (default: now)."""
        return cls((time.monotonic() if start is None else start) + budget_ms / 1000)

    @classmethod
    def never(cls) -> Deadline:
        """No deadline: a leg that is the only one able to answer is waited for (its calls keep their timeouts)."""
        return cls(math.inf)

    @property
    def bounded(self) -> bool:
        """Whether there is a deadline at all."""
        return self.at != math.inf

    def remaining(self) -> float:
        """Seconds left (0 once passed; infinite without a deadline)."""
        return max(0.0, self.at - time.monotonic())

    @property
    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return time.monotonic() >= self.at

    def check(self) -> None:
        """Raise `LegTimeout` once the deadline has passed (before starting work nobody waits for)."""
        if self.expired:
            raise LegTimeout

    def call_timeout(self) -> float:
        """The request timeout for a call started now: the time left, at least `MIN_CALL_S`."""
        return max(self.remaining(), MIN_CALL_S)


def wait(future: Future[T], deadline: Deadline) -> T:
    """The future's result, or `LegTimeout` once the deadline passes.

    A future still queued is cancelled (it will never run); one already running finishes on its
    own, bounded by the timeouts its calls were given.
    """
    try:
        return future.result(timeout=deadline.remaining() if deadline.bounded else None)
    except TimeoutError:
        if future.done() and isinstance(future.exception(), TimeoutError):
            raise  # the work itself raised a TimeoutError: not ours to translate
        future.cancel()
        raise LegTimeout from None
