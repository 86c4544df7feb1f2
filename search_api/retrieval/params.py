"""Parse and validate search requests from query strings or JSON bodies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from indexer.index_format import normalize
from search_api.core.errors import InvalidParameter

if TYPE_CHECKING:
    from search_api.personal.events import Event



class Mode(StrEnum):
    """Which legs answer: both fused, or one alone."""

    HYBRID = "hybrid"
    KEYWORD = "keyword"
    SEMANTIC = "semantic"


class Sort(StrEnum):
    """Result order: fused relevance, or a field of the relevant candidates."""

    RELEVANCE = "relevance"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    SALES = "sales"
    RATING = "rating"


MODES = tuple(m.value for m in Mode)
SORTS = tuple(s.value for s in Sort)
MAX_QUERY_CHARS = 256
MAX_SIZE = 100
MAX_DEPTH = 1000
"""from + size limit: deeper pages of a relevance list are noise and cost candidates on every leg."""
MAX_FILTER_VALUES = 50
MAX_USER_ID_CHARS = 128


@dataclass(frozen=True)
class SearchRequest:
    """A validated search."""

    q: str
    size: int = 20
    offset: int = 0
    mode: Mode = Mode.HYBRID
    explain: bool = False
    brands: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    price_min: float | None = None
    price_max: float | None = None
    sort: Sort = Sort.RELEVANCE
    user_id: str | None = None
    history: tuple[Event, ...] | None = None
    """Inline history (POST only); given, it replaces stored events, even when empty."""


def _one(source: Mapping[str, Any], name: str) -> Any:
    value = source.get(name)
    if isinstance(value, list):
        if len(value) > 1:
            raise InvalidParameter(f"{name} must be given once", field=name)
        value = value[0] if value else None
    return value


def _int(source: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = _one(source, name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise InvalidParameter(f"{name} must be an integer", field=name)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidParameter(f"{name} must be an integer, got {value!r}", field=name) from None
    if isinstance(value, float) and value != number:
        raise InvalidParameter(f"{name} must be an integer, got {value!r}", field=name)
    if not low <= number <= high:
        raise InvalidParameter(f"{name} must be between {low} and {high}", field=name)
    return number


def _float(source: Mapping[str, Any], name: str) -> float | None:
    value = _one(source, name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidParameter(f"{name} must be a number", field=name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidParameter(f"{name} must be a number, got {value!r}", field=name) from None
    if not 0 <= number < float("inf"):
        raise InvalidParameter(f"{name} must be a non-negative number", field=name)
    return number


def _choice(source: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> str:
    value = _one(source, name)
    if value is None or value == "":
        return choices[0]
    if value not in choices:
        raise InvalidParameter(f"{name} must be one of {', '.join(choices)}", field=name)
    return str(value)


def _bool(source: Mapping[str, Any], name: str) -> bool:
    value = _one(source, name)
    if value is None or value == "" or value is False:
        return False
    if value is True or str(value).lower() in ("true", "1", "yes"):
        return True
    if str(value).lower() in ("false", "0", "no"):
        return False
    raise InvalidParameter(f"{name} must be true or false", field=name)


def _strings(source: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = source.get(name)
    if value is None:
        return ()
    values = value if isinstance(value, list) else [value]
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidParameter(f"{name} takes at most {MAX_FILTER_VALUES} values", field=name)
    out = []
    for item in values:
        if not isinstance(item, str) or not item.strip():
            raise InvalidParameter(f"{name} values must be non-empty strings", field=name)
        out.append(item.strip())
    return tuple(out)


def _user_id(source: Mapping[str, Any]) -> str | None:
    value = _one(source, "user_id")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value.strip()) > MAX_USER_ID_CHARS or not value.strip():
        raise InvalidParameter(f"user_id must be a string of 1-{MAX_USER_ID_CHARS} characters",
                               field="user_id")
    return value.strip()


def parse_search(source: Mapping[str, Any], *, history: Sequence[Event] | None = None) -> SearchRequest:
    """Validate a search from a flat mapping (lists for repeated query-string keys).

    `history` is the already validated inline history of a POST body (`events.parse_history`);
    a `history` key in `source` without it (a query string) is refused.

    Raises:
        InvalidParameter: naming the first bad field.

    """
    user_id = _user_id(source)
    if history is None and source.get("history") is not None:
        raise InvalidParameter("history is accepted in a POST /search JSON body only", field="history")
    if history is not None and user_id:
        raise InvalidParameter("give user_id or history, not both", field="history")
    raw_q = _one(source, "q")
    if raw_q is None:
        raise InvalidParameter("q is required", field="q")
    if not isinstance(raw_q, str):
        raise InvalidParameter("q must be a string", field="q")
    q = normalize(raw_q)
    if not q:
        raise InvalidParameter("q must not be empty", field="q")
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidParameter(f"q must be at most {MAX_QUERY_CHARS} characters", field="q")
    size = _int(source, "size", 20, 1, MAX_SIZE)
    offset = _int(source, "from", 0, 0, MAX_DEPTH)
    if offset + size > MAX_DEPTH:
        raise InvalidParameter(f"from + size must be at most {MAX_DEPTH}", field="from")
    price_min, price_max = _float(source, "price_min"), _float(source, "price_max")
    if price_min is not None and price_max is not None and price_min > price_max:
        raise InvalidParameter("price_min must not exceed price_max", field="price_min")
    return SearchRequest(
        q=q, size=size, offset=offset, mode=Mode(_choice(source, "mode", MODES)),
        explain=_bool(source, "explain"), brands=_strings(source, "brand"),
        categories=_strings(source, "category"), price_min=price_min, price_max=price_max,
        sort=Sort(_choice(source, "sort", SORTS)), user_id=user_id,
        history=tuple(history) if history is not None else None,
    )
