"""Viewing events: what a shopper did with a product, validated at the door.

Pure values and validation; writing and reading them is `event_store.py`. `ViewingEvent` (an
item of `POST /events`) and `HistoryEvent` (an entry of an inline history) are the request
models; `Event` is the value the rest of the code reads. A batch is validated as a whole: one bad
event refuses the batch (400 naming every bad index and field), so a client never has to work
out which half of its batch was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    WithJsonSchema,
)

from indexer.index_format import DEFAULT_ACTION_WEIGHTS
from search_api.core.settings import ApiSettings
from search_api.core.validation import is_bool_or_text, not_blank, problem, refuse, validate_events

ACTIONS = tuple(DEFAULT_ACTION_WEIGHTS)
SOURCES = ("feed", "search", "live", "mall")
MAX_ID_CHARS = 128
MAX_DWELL_MS = 24 * 3600 * 1000
QUERY_ID_PATTERN = r"^[0-9a-f]{32}$"
"""What `meta.query_id` looks like (a UUID4 in hex): anything else is a client bug, refused."""
MAX_POSITION = 1000
"""Paging stops at 1,000 results: no product is shown further down."""


@dataclass(frozen=True)
class Event:
    """One validated event (`ts` in UTC)."""

    user_id: str
    product_id: str
    action: str
    source: str
    ts: datetime
    dwell_ms: int | None = None
    query_id: str | None = None
    """The search answer this event happened on (`meta.query_id`), for search-sourced events."""
    position: int | None = None
    """The product's 1-based position in that answer."""


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


@dataclass(frozen=True)
class Window:
    """What a batch is validated against (the validation context): its size and the accepted times."""

    now: datetime
    settings: ApiSettings

    @property
    def latest(self) -> datetime:
        """Clocks drift: a little future is tolerated."""
        return self.now + timedelta(seconds=self.settings.events_max_future_s)

    @property
    def earliest(self) -> datetime:
        """Older events would be dropped by retention anyway."""
        return self.now - timedelta(days=self.settings.events_retention_days)


def _ts(value: Any, info: ValidationInfo) -> datetime | None:
    if value is None:
        return None
    try:
        ts = parse_ts(value)
    except (ValueError, OverflowError, OSError):
        raise problem("must be an ISO 8601 timestamp or epoch milliseconds") from None
    window = info.context
    if isinstance(window, Window):
        if ts > window.latest:
            raise problem(f"is more than {window.settings.events_max_future_s:g} s in the future")
        if ts < window.earliest:
            raise problem(f"is older than the {window.settings.events_retention_days}-day retention")
    return ts


def _batch(value: Any, info: ValidationInfo) -> Any:
    if not isinstance(value, list):
        raise problem("must be a JSON array of events")
    window = info.context
    if isinstance(window, Window) and len(value) > window.settings.events_batch_max:
        raise problem(f"takes at most {window.settings.events_batch_max} events per request, got {len(value)}")
    return value


Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ID_CHARS), not_blank()]
Action = Literal[ACTIONS]  # type: ignore[valid-type]
Source = Literal[SOURCES]  # type: ignore[valid-type]
Timestamp = Annotated[datetime | None, BeforeValidator(_ts), WithJsonSchema({"anyOf": [
    {"type": "string", "format": "date-time"}, {"type": "number", "description": "epoch milliseconds"},
    {"type": "null"}]})]
"""ISO 8601 (naive means UTC) or epoch milliseconds; at most `events_max_future_s` ahead, within retention."""


class HistoryEvent(BaseModel):
    """An entry of an inline viewing history (`POST /search`, audit personas)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    product_id: Id = Field(description="The product looked at.")
    action: Action = Field("view", description="What the shopper did with it.")
    ts: Timestamp = Field(None, description="When (default: now).")


class ViewingEvent(BaseModel):
    """An event of `POST /events`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: Id = Field(description="The shopper.")
    product_id: Id = Field(description="The product; unknown ones are stored and counted.")
    action: Action = Field(description="What the shopper did with it.")
    source: Source = Field(description="Where it happened.")
    ts: Timestamp = Field(None, description="When (default: now).")
    dwell_ms: Annotated[int | None, refuse(is_bool_or_text, "must be an integer")] = Field(
        None, ge=0, le=MAX_DWELL_MS, description="How long the product was on screen.")
    query_id: Annotated[str | None, StringConstraints(pattern=QUERY_ID_PATTERN)] = Field(
        None, description="The search answer's `meta.query_id` this event happened on (a click, add_to_cart or "
                          "order with source `search`).")
    position: Annotated[int | None, refuse(is_bool_or_text, "must be an integer")] = Field(
        None, ge=1, le=MAX_POSITION, description="The product's 1-based position in that answer (meaningful with "
                                                 "query_id; stored as given).")


_EVENTS = TypeAdapter(Annotated[list[ViewingEvent], BeforeValidator(_batch)])
_HISTORY = TypeAdapter(Annotated[list[HistoryEvent], BeforeValidator(_batch)])


def parse_events(body: Any, *, now: datetime, settings: ApiSettings) -> list[Event]:
    """Validate a `POST /events` body (a JSON array).

    Raises:
        InvalidParameter: the body is not an array or is over `events_batch_max`.
        InvalidEvents: naming every invalid event's index and first bad field.

    """
    items: list[ViewingEvent] = validate_events(_EVENTS, body, root="body", context=Window(now, settings))
    return [Event(e.user_id, e.product_id, e.action, e.source, e.ts or now, e.dwell_ms, e.query_id, e.position)
            for e in items]


def parse_history(body: Any, *, now: datetime, settings: ApiSettings) -> list[Event]:
    """Validate the inline `history` of a `POST /search` (`action` defaults to view, `ts` to now).

    Raises:
        InvalidParameter: not an array, or over `events_batch_max`.
        InvalidEvents: naming every invalid entry.

    """
    items: list[HistoryEvent] = validate_events(_HISTORY, body, root="history", within="history",
                                                context=Window(now, settings))
    return [Event("", e.product_id, e.action, "search", e.ts or now) for e in items]
