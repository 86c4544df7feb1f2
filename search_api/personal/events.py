"""Viewing events: what a shopper did with a product, validated at the door.

Pure values and validation; writing and reading them is `event_store.py`. A batch is validated
as a whole: one bad event refuses the batch (400 naming every bad index and field), so a client
never has to work out which half of its batch was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from indexer.index_format import DEFAULT_ACTION_WEIGHTS
from search_api.core.errors import InvalidEvents, InvalidParameter
from search_api.core.settings import ApiSettings

ACTIONS = tuple(DEFAULT_ACTION_WEIGHTS)
SOURCES = ("feed", "search", "live", "mall")
MAX_ID_CHARS = 128
MAX_DWELL_MS = 24 * 3600 * 1000
EVENT_FIELDS = frozenset({"user_id", "product_id", "action", "source", "ts", "dwell_ms"})
HISTORY_FIELDS = frozenset({"product_id", "action", "ts"})


@dataclass(frozen=True)
class Event:
    """One validated event (`ts` in UTC)."""

    user_id: str
    product_id: str
    action: str
    source: str
    ts: datetime
    dwell_ms: int | None = None


class _Bad(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _id(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _Bad(name, f"{name} is required")
    if not isinstance(value, str):
        raise _Bad(name, f"{name} must be a string")
    if len(value) > MAX_ID_CHARS:
        raise _Bad(name, f"{name} must be at most {MAX_ID_CHARS} characters")
    return value.strip()


def _choice(item: Mapping[str, Any], name: str, choices: tuple[str, ...], default: str | None) -> str:
    value = item.get(name, default)
    if value is None:
        raise _Bad(name, f"{name} is required (one of {', '.join(choices)})")
    if value not in choices:
        raise _Bad(name, f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


def parse_ts(value: Any) -> datetime:
    """ISO 8601 (naive means UTC) or epoch milliseconds → aware UTC datetime.

    Raises:
        ValueError: neither form.

    """
    if isinstance(value, bool):
        raise ValueError("not a timestamp")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise ValueError("not a timestamp")


def _ts(item: Mapping[str, Any], now: datetime, settings: ApiSettings) -> datetime:
    if item.get("ts") is None:
        return now
    try:
        ts = parse_ts(item["ts"])
    except (ValueError, OverflowError, OSError):
        raise _Bad("ts", "ts must be an ISO 8601 timestamp or epoch milliseconds") from None
    if ts > now + timedelta(seconds=settings.events_max_future_s):
        raise _Bad("ts", f"ts is more than {settings.events_max_future_s:g} s in the future")
    if ts < now - timedelta(days=settings.events_retention_days):
        raise _Bad("ts", f"ts is older than the {settings.events_retention_days}-day retention")
    return ts


def _dwell(item: Mapping[str, Any]) -> int | None:
    value = item.get("dwell_ms")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise _Bad("dwell_ms", "dwell_ms must be an integer")
    if not 0 <= value <= MAX_DWELL_MS:
        raise _Bad("dwell_ms", f"dwell_ms must be between 0 and {MAX_DWELL_MS}")
    return int(value)


def _items(body: Any, name: str, limit: int) -> list[Any]:
    if not isinstance(body, list):
        raise InvalidParameter(f"{name} must be a JSON array of events", field=name)
    if len(body) > limit:
        raise InvalidParameter(f"{name} takes at most {limit} events per request, got {len(body)}",
                               field=name)
    return body


def _each(items: list[Any], allowed: frozenset[str], parse: Any, *, within: str | None = None) -> list[Any]:
    """Parse every item, collecting problems; `within` names the field as `history[3].ts`."""
    out, problems = [], []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise _Bad("event", "each event must be a JSON object")
            unknown = sorted(set(item) - allowed)
            if unknown:
                raise _Bad(unknown[0], f"unknown field {unknown[0]!r}; known: {', '.join(sorted(allowed))}")
            out.append(parse(item))
        except _Bad as bad:
            field = f"{within}[{index}].{bad.field}" if within else bad.field
            problems.append({"index": index, "field": field, "message": bad.message})
    if problems:
        raise InvalidEvents(problems)
    return out


def parse_events(body: Any, *, now: datetime, settings: ApiSettings) -> list[Event]:
    """Validate a `POST /events` body (a JSON array).

    Raises:
        InvalidParameter: the body is not an array or is over `events_batch_max`.
        InvalidEvents: naming every invalid event's index and first bad field.

    """
    items = _items(body, "body", settings.events_batch_max)
    return _each(items, EVENT_FIELDS, lambda item: Event(
        user_id=_id(item, "user_id"), product_id=_id(item, "product_id"),
        action=_choice(item, "action", ACTIONS, None), source=_choice(item, "source", SOURCES, None),
        ts=_ts(item, now, settings), dwell_ms=_dwell(item)))


def parse_history(body: Any, *, now: datetime, settings: ApiSettings) -> list[Event]:
    """Validate the inline `history` of a `POST /search` (`action` defaults to view, `ts` to now).

    Raises:
        InvalidParameter: not an array, or over `events_batch_max`.
        InvalidEvents: naming every invalid entry.

    """
    items = _items(body, "history", settings.events_batch_max)
    return _each(items, HISTORY_FIELDS, lambda item: Event(
        user_id="", product_id=_id(item, "product_id"), action=_choice(item, "action", ACTIONS, "view"),
        source="search", ts=_ts(item, now, settings)), within="history")
