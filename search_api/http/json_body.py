"""Request bodies read and parsed with limits: size, nesting depth and finite numbers.

A body over `MAX_CONTENT_LENGTH` is a 413. Werkzeug refuses one whose Content-Length says so
before reading it, but a chunked body (no Content-Length; gunicorn passes it on) it only cuts at
the limit: the route would parse the first N bytes, a 400 for broken JSON or, for a body padded
past the limit, an answer to what was not sent. `BoundedRequest` refuses those too.

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
from flask import Request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge

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


class BoundedRequest(Request):
    """Flask's request, with a streamed body past the size limit refused (413) rather than cut."""

    def get_data(self, cache: bool = True, as_text: bool = False,  # type: ignore[override]
                 parse_form_data: bool = False) -> bytes | str:
        """The body (see werkzeug), after checking that a chunked one ended within the limit.

        Raises:
            RequestEntityTooLarge: the body goes on past `max_content_length`.

        """
        if getattr(self, "_cached_data", None) is None and self.content_length is None:
            limit = self.max_content_length
            data = super().get_data(cache=True, parse_form_data=parse_form_data)
            if limit is not None and len(data) >= limit and self.input_stream.read(1):
                raise RequestEntityTooLarge()
        return super().get_data(cache=cache, as_text=as_text, parse_form_data=parse_form_data)
