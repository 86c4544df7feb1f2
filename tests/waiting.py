"""Waiting for something that will happen: poll it with a deadline instead of sleeping a guess."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll(check: Callable[[], T], *, within: float, what: str, every: float = 0.05) -> T:
    """The first truthy `check()`, asked every `every` seconds.

    Raises:
        AssertionError: naming `what`, when nothing truthy came within `within` seconds.

    """
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {within:g} s")
        time.sleep(every)
