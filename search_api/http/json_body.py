"""Request bodies parsed with limits: nesting depth and finite numbers.

Python's `json` recurses once per nesting level (10,000 levels end in a RecursionError, a 500)
and reads `NaN`, `Infinity` and `1e400` as floats that no validator downstream expects. orjson
(also what `POST /events` always used) refuses all of those and lone surrogates, and is fast;
when it refuses a body, the standard parser re-reads it with hooks only to tell a body beyond
our limits (400 `invalid_json`) from one that is not JSON at all (the caller's own 400).

The app's JSON provider parses with `parse_json`, so `request.get_json()` in any route gets the
limits; `InvalidJson` is no `ValueError`, so even `get_json(silent=True)` lets it through.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

from search_api.core.errors import InvalidJson

NON_FINITE = "body has a number JSON cannot carry (NaN, Infinity, or beyond 1.8e308)"


class _NonFinite(ValueError):
    """Raised by the diagnosing parser's hooks."""


def parse_json(data: bytes | str, *, max_depth: int) -> Any:
    """The value of a JSON document of at most `max_depth` nested arrays/objects.

    Raises:
        InvalidJson: nested deeper than `max_depth`, or a non-finite number.
        ValueError: not JSON (malformed, not UTF-8, a lone surrogate).

    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        _diagnose(data, max_depth)
        raise
    if _depth(value) > max_depth:
        raise InvalidJson(_too_deep(max_depth))
    return value


def _diagnose(data: bytes | str, max_depth: int) -> None:
    """Raise InvalidJson when the body orjson refused is too deep or has a non-finite number."""
    try:
        value = json.loads(data, parse_constant=_refuse, parse_float=_finite, parse_int=_finite)
    except RecursionError:
        raise InvalidJson(_too_deep(max_depth)) from None
    except _NonFinite:
        raise InvalidJson(NON_FINITE) from None
    except ValueError:
        return  # malformed: the caller says what it expected
    if _depth(value) > max_depth:  # orjson stops at 1,024 levels, maybe before this parser does
        raise InvalidJson(_too_deep(max_depth))


def _refuse(name: str) -> float:
    raise _NonFinite(name)


def _finite(text: str) -> float | int:
    number = float(text)
    if not math.isfinite(number):
        raise _NonFinite(text)
    return number


def _too_deep(max_depth: int) -> str:
    return f"body nests arrays/objects deeper than {max_depth} levels"


def _depth(value: Any) -> int:
    """Nesting depth of arrays and objects (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            node = node.values()
        elif not isinstance(node, list):
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in node if isinstance(child, dict | list))
    return deepest


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with `parse_json` for reading; writing is unchanged."""

    max_depth = 32

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse a request body (or any JSON Flask reads) within the limits."""
        return parse_json(s, max_depth=self.max_depth)
