"""Turn raw catalog rows into typed products and brand keywords, or precise rejects.

Only `id` and `title` are required. Known fields must have the right type; CSV gives every value
as text, so numeric text is accepted for numeric fields. Unknown fields are kept verbatim in
`extra` (stored, not searched) so a real catalog such as ESCI indexes as it is.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from indexer.catalog.models import MATCH_KINDS, PRODUCT_STATUSES, BrandKeyword, Product, Reject
from indexer.text.analysis import detect_language, normalize

MAX_ID_LEN = 512  # Elasticsearch's hard limit on _id is 512 bytes
MAX_TITLE_LEN = 2000
_TITLE_FIELD = re.compile(r"^title_([a-z]{2,3})$")
_CATEGORY_SPLIT = re.compile(r"\s*(?:>|/|\|)\s*")


class FieldError(ValueError):
    """One field of one row is wrong; becomes a Reject naming the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _text(row: Mapping[str, Any], key: str, *, required: bool = False, limit: int = 10_000) -> str | None:
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldError(key, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError(key, f"must be text, got {type(value).__name__}")
    text = str(value).strip()
    if len(text) > limit:
        raise FieldError(key, f"is longer than {limit} characters")
    return text


def _number(row: Mapping[str, Any], key: str, *, integer: bool = False, low: float = 0.0,
            high: float = math.inf) -> float | int | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise FieldError(key, "must be a number, got a boolean")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError as exc:
            raise FieldError(key, f"must be a number, got {value!r}") from exc
    if not isinstance(value, int | float):
        raise FieldError(key, f"must be a number, got {type(value).__name__}")
    if math.isnan(value) or math.isinf(value):
        raise FieldError(key, "must be a finite number")
    if not low <= value <= high:
        raise FieldError(key, f"must be between {low:g} and {high:g}, got {value:g}")
    if integer:
        if value != int(value):
            raise FieldError(key, f"must be a whole number, got {value:g}")
        return int(value)
    return float(value)


def _text_list(row: Mapping[str, Any], key: str, *, split: re.Pattern[str] | None = None) -> tuple[str, ...]:
    value = row.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        parts = split.split(value) if split else [value]
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        raise FieldError(key, f"must be a list of text, got {type(value).__name__}")
    out = []
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, str | int | float):
            raise FieldError(key, f"must be a list of text, found {type(part).__name__}")
        text = str(part).strip()
        if text:
            out.append(text)
    return tuple(out)


def _timestamp(row: Mapping[str, Any], key: str) -> datetime | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value  # epoch millis or seconds
        return datetime.fromtimestamp(seconds, tz=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise FieldError(key, f"must be an ISO-8601 time, got {value!r}") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise FieldError(key, f"must be a time, got {type(value).__name__}")


def _json_value(key: str, value: Any) -> Any:
    """Unknown fields must still be storable as JSON."""
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise FieldError(key, f"unsupported value type {type(value).__name__}") from exc
    return value


PRODUCT_FIELDS = frozenset({
    "id", "title", "brand", "category", "attributes", "description", "bullet_points", "bullets",
    "color", "price", "sales", "rating", "rating_count", "shop", "status", "image", "updated_at",
})


def product_from_row(row: Mapping[str, Any]) -> Product:
    """Validate one raw row into a Product.

    Raises:
        FieldError: the first wrong field, with the reason.

    """
    raw_id = _text(row, "id", required=True, limit=MAX_ID_LEN)
    assert raw_id is not None
    if len(raw_id.encode("utf-8")) > MAX_ID_LEN:
        raise FieldError("id", f"is longer than {MAX_ID_LEN} bytes in UTF-8")
    title = _text(row, "title", required=True, limit=MAX_TITLE_LEN)
    assert title is not None
    titles: dict[str, str] = {}
    extra: dict[str, Any] = {}
    for key, value in row.items():
        match = _TITLE_FIELD.match(key)
        if match:
            text = _text(row, key, limit=MAX_TITLE_LEN)
            if text:
                titles[match.group(1)] = text
        elif key not in PRODUCT_FIELDS:
            extra[key] = _json_value(key, value)
    attributes = row.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise FieldError("attributes", f"must be an object, got {type(attributes).__name__}")
    for name, value in attributes.items():
        if isinstance(value, dict):
            raise FieldError("attributes", f"{name}: nested objects are not supported")
        _json_value(f"attributes.{name}", value)
    status = (_text(row, "status") or "on_sale").lower()
    if status not in PRODUCT_STATUSES:
        raise FieldError("status", f"must be one of {', '.join(PRODUCT_STATUSES)}, got {status!r}")
    bullets = _text_list(row, "bullet_points") + _text_list(row, "bullets")
    return Product(
        id=raw_id,
        title=title,
        title_lang=detect_language(title),
        titles=titles,
        brand=_text(row, "brand", limit=200),
        category=_text_list(row, "category", split=_CATEGORY_SPLIT),
        attributes=dict(attributes),
        description=_text(row, "description", limit=50_000),
        bullets=bullets,
        color=_text(row, "color", limit=200),
        price=_number(row, "price", high=1e9),
        sales=_number(row, "sales", integer=True, high=1e12),  # type: ignore[arg-type]
        rating=_number(row, "rating", high=5.0),
        rating_count=_number(row, "rating_count", integer=True, high=1e12),  # type: ignore[arg-type]
        shop=_text(row, "shop", limit=200),
        status=status,
        image=_text(row, "image", limit=2000),
        updated_at=_timestamp(row, "updated_at"),
        extra=extra,
    )


def brand_keyword_from_row(row: Mapping[str, Any]) -> BrandKeyword:
    """Validate one raw row into a BrandKeyword.

    Raises:
        FieldError: the first wrong field, with the reason.

    """
    keyword = _text(row, "keyword", required=True, limit=100)
    brand = _text(row, "brand", required=True, limit=200)
    assert keyword is not None and brand is not None
    brand_id = _text(row, "brand_id", limit=200) or normalize(brand)
    match = (_text(row, "match") or "phrase").lower()
    if match not in MATCH_KINDS:
        raise FieldError("match", f"must be one of {', '.join(MATCH_KINDS)}, got {match!r}")
    active_from = _timestamp(row, "active_from")
    active_to = _timestamp(row, "active_to")
    if active_from and active_to and active_to <= active_from:
        raise FieldError("active_to", "must be after active_from")
    landing = row.get("landing") or {}
    if not isinstance(landing, dict):
        raise FieldError("landing", "must be an object with `products` and/or `categories`")
    return BrandKeyword(
        keyword=keyword,
        brand_id=brand_id,
        brand=brand,
        aliases=_text_list(row, "aliases"),
        priority=int(_number(row, "priority", integer=True, low=-1e6, high=1e6) or 0),
        active_from=active_from,
        active_to=active_to,
        landing_products=_text_list(landing, "products") + _text_list(row, "landing_products"),
        landing_categories=_text_list(landing, "categories") + _text_list(row, "landing_categories"),
        match=match,  # type: ignore[arg-type]
        id=_text(row, "id", limit=MAX_ID_LEN) or f"{brand_id}:{normalize(keyword)}",
    )


def reject_for(source: str, line: int, row: Mapping[str, Any], error: FieldError) -> Reject:
    """A Reject naming file:line, the field and the row's id when it has one."""
    raw_id = row.get("id")
    return Reject(source, line, error.reason, field=error.field,
                  id=str(raw_id) if isinstance(raw_id, str | int) else None)
