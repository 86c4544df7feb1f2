"""Turn raw catalog rows into typed products and brand keywords, or precise rejects.

Only `id` and `title` are required. Known fields must have the right type; CSV gives every value
as text, so numeric text is accepted for numeric fields. Unknown fields are kept verbatim in
`extra` (stored, not searched) so a real catalog such as ESCI indexes as it is. The rules are the
row models' (`rows.py`, pydantic); this module turns the first error pydantic reports into the
`FieldError` a reject is made of, naming the field as the catalog file spells it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from indexer.catalog.fields import REFUSED
from indexer.catalog.models import BrandKeyword, Product, Reject
from indexer.catalog.rows import BRAND_KEYWORD_ROWS, PRODUCT_ROWS, to_brand_keyword, to_product


class FieldError(ValueError):
    """One field of one row is wrong; becomes a Reject naming the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def product_from_row(row: Mapping[str, Any]) -> Product:
    """Validate one raw row into a Product.

    Raises:
        FieldError: the first wrong field, with the reason.

    """
    try:
        valid = PRODUCT_ROWS.validate_python(row)
    except ValidationError as exc:
        raise field_error(row, exc) from None
    return to_product(valid)


def brand_keyword_from_row(row: Mapping[str, Any]) -> BrandKeyword:
    """Validate one raw row into a BrandKeyword.

    Raises:
        FieldError: the first wrong field, with the reason.

    """
    try:
        valid = BRAND_KEYWORD_ROWS.validate_python(row)
    except ValidationError as exc:
        raise field_error(row, exc) from None
    return to_brand_keyword(valid)


def field_error(row: Mapping[str, Any], exc: ValidationError) -> FieldError:
    """The first error, naming the field as the row spells it (`title_en`, not `titles.en`)."""
    error = exc.errors(include_url=False)[0]
    loc, ctx = error["loc"], error.get("ctx") or {}
    if "field" in ctx:  # a rule over the whole row names its field itself
        return FieldError(ctx["field"], _reason(error))
    if not loc:
        return FieldError("row", f"must be an object, got {type(row).__name__}")
    head, key = str(loc[0]), loc[1] if len(loc) > 1 else None
    if head == "titles":
        return FieldError(f"title_{key}", _reason(error))
    if head == "extra":
        return FieldError(str(key), f"unsupported value type {type(row.get(str(key))).__name__}")
    if head == "attributes" and key is not None:
        value = row["attributes"].get(key)
        if isinstance(value, dict):
            return FieldError("attributes", f"{key}: nested objects are not supported")
        return FieldError(f"attributes.{key}", f"unsupported value type {type(value).__name__}")
    if head == "landing":
        if key is not None:  # a field of the landing object is named on its own
            return FieldError(str(key), _reason(error))
        return FieldError("landing", "must be an object with `products` and/or `categories`")
    return FieldError(head, _reason(error))


def _reason(error: ErrorDetails) -> str:
    kind, value, ctx = error["type"], error["input"], error.get("ctx") or {}
    in_list = len(error["loc"]) > 1 and isinstance(error["loc"][-1], int)
    if kind == REFUSED:
        return str(ctx["reason"])
    if kind in ("missing", "string_too_short"):
        return "is required"
    if kind == "string_too_long":
        return f"is longer than {ctx['max_length']} characters"
    if kind == "string_type":
        what = "must be a list of text, found" if in_list else "must be text, got"
        return f"{what} {type(value).__name__}"
    if kind in ("tuple_type", "list_type"):
        return f"must be a list of text, got {type(value).__name__}"
    if kind == "dict_type":
        return f"must be an object, got {type(value).__name__}"
    return error["msg"]


def reject_for(source: str, line: int, row: Mapping[str, Any], error: FieldError) -> Reject:
    """A Reject naming file:line, the field and the row's id when it has one."""
    raw_id = row.get("id")
    return Reject(source, line, error.reason, field=error.field,
                  id=str(raw_id) if isinstance(raw_id, str | int) else None)
