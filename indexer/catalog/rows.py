"""The catalog's row formats as pydantic-validated typed dicts, and the values they become.

A row is validated into a `TypedDict` by a `TypeAdapter` built once, not into a model instance:
absent fields cost nothing (a build reads millions of sparse rows) and a validated product row
is already the keyword arguments of `Product`. `Product`/`BrandKeyword` stay frozen dataclasses:
every layer above uses them, building one is cheap, and `documents.source_hash` digests a
product with orjson's native dataclass support (a different dump would make the next build
rewrite every document).

Missing, null and empty values all mean "not given" (CSV cannot tell them apart), as does blank
text for a text field and any empty value for an object field; they are dropped before the
fields are validated, so the values' defaults apply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Required

from pydantic import AfterValidator, BeforeValidator, ConfigDict, JsonValue, TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from indexer.catalog.fields import (
    CATEGORY_SPLIT,
    AttributeValue,
    Listed,
    Number,
    Text,
    Texts,
    Timestamp,
    one_of,
    refuse,
)
from indexer.catalog.models import MATCH_KINDS, PRODUCT_STATUSES, BrandKeyword, Product
from indexer.text.analysis import detect_language, normalize

MAX_ID_LEN = 512  # Elasticsearch's hard limit on _id is 512 bytes
MAX_TITLE_LEN = 2000
TITLE_FIELD = re.compile(r"^title_([a-z]{2,3})$")
"""`title_en`, `title_zh`, ...: the title in another language."""


def _fits_es_id(value: str) -> str:
    if len(value) * 4 > MAX_ID_LEN and len(value.encode("utf-8")) > MAX_ID_LEN:  # 4: UTF-8's widest
        raise refuse(f"is longer than {MAX_ID_LEN} bytes in UTF-8")
    return value


_CONFIG = ConfigDict(defer_build=True)
"""Validators are built on first use, not on import."""


@with_config(_CONFIG)
class ProductRow(TypedDict, total=False):
    """One product row, validated; only `id` and `title` are required.

    Fields are declared in the order errors are reported. `title_xx` fields arrive as `titles`,
    unknown fields as `extra` (stored verbatim, not searched: a real catalog such as ESCI
    indexes as it is); see `_shape`.
    """

    id: Required[Annotated[str, Text(MAX_ID_LEN, required=True), AfterValidator(_fits_es_id)]]
    title: Required[Annotated[str, Text(MAX_TITLE_LEN, required=True)]]
    titles: dict[str, Annotated[str, Text(MAX_TITLE_LEN)]]
    extra: dict[str, JsonValue]
    attributes: dict[str, AttributeValue]
    status: Annotated[str, Text(), one_of(PRODUCT_STATUSES)]
    bullet_points: Annotated[Texts, Listed()]
    bullets: Annotated[Texts, Listed()]
    brand: Annotated[str, Text(200)]
    category: Annotated[Texts, Listed(CATEGORY_SPLIT)]
    description: Annotated[str, Text(50_000)]
    color: Annotated[str, Text(200)]
    price: Annotated[float, Number(0, 1e9)]
    sales: Annotated[int, Number(0, 10**12)]
    rating: Annotated[float, Number(0, 5)]
    rating_count: Annotated[int, Number(0, 10**12)]
    shop: Annotated[str, Text(200)]
    image: Annotated[str, Text(2000)]
    updated_at: Timestamp


PRODUCT_FIELDS = frozenset(ProductRow.__annotations__) - {"titles", "extra"}
"""The fields a product row names itself (the others are `title_xx` or extra)."""

_TEXT_FIELDS = frozenset({"id", "title", "status", "brand", "description", "color", "shop", "image",
                          "keyword", "brand_id", "match"})
_OBJECT_FIELDS = frozenset({"attributes", "landing"})


def _given(key: str, value: Any) -> bool:
    """Whether a row gives a known field a value (see the module's docstring)."""
    if value.__class__ is str:
        return bool(value.strip()) or (value != "" and key not in _TEXT_FIELDS)
    return value is not None and (bool(value) or key not in _OBJECT_FIELDS)


def _product_shape(row: Any) -> Any:
    """The given fields, `title_xx` fields as `titles` and unknown ones as `extra`."""
    if not isinstance(row, Mapping):
        return row  # pydantic refuses it
    fields: dict[str, Any] = {}
    titles: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in row.items():
        if key in PRODUCT_FIELDS:
            if _given(key, value):
                fields[key] = value
        elif key.startswith("title_") and (match := TITLE_FIELD.match(key)):
            if _given("title", value):
                titles[match.group(1)] = value
        else:
            extra[key] = value
    fields["titles"] = titles
    fields["extra"] = extra
    return fields


PRODUCT_ROWS: TypeAdapter[ProductRow] = TypeAdapter(Annotated[ProductRow, BeforeValidator(_product_shape)])


def to_product(row: ProductRow) -> Product:
    """The validated row as the value the indexer works with."""
    if "bullet_points" in row:
        row["bullets"] = row.pop("bullet_points") + row.get("bullets", ())
    return Product(title_lang=detect_language(row["title"]), **row)


@with_config(_CONFIG)
class Landing(TypedDict, total=False):
    """Where a brand zone lands: products and/or categories."""

    products: Annotated[Texts, Listed()]
    categories: Annotated[Texts, Listed()]


def _window_in_order(row: BrandKeywordRow) -> BrandKeywordRow:
    start, end = row.get("active_from"), row.get("active_to")
    if start is not None and end is not None and end <= start:
        raise refuse("must be after active_from", field="active_to")
    return row


@with_config(_CONFIG)
class BrandKeywordRow(TypedDict, total=False):
    """One brand keyword row, validated; `keyword` and `brand` are required, unknown fields are ignored."""

    keyword: Required[Annotated[str, Text(100, required=True)]]
    brand: Required[Annotated[str, Text(200, required=True)]]
    brand_id: Annotated[str, Text(200)]
    match: Annotated[str, Text(), one_of(MATCH_KINDS)]
    active_from: Timestamp
    active_to: Timestamp
    landing: Landing
    aliases: Annotated[Texts, Listed()]
    priority: Annotated[int, Number(-10**6, 10**6)]
    landing_products: Annotated[Texts, Listed()]
    landing_categories: Annotated[Texts, Listed()]
    id: Annotated[str, Text(MAX_ID_LEN)]


def _brand_keyword_shape(row: Any) -> Any:
    """The given fields (unknown ones are ignored)."""
    if not isinstance(row, Mapping):
        return row  # pydantic refuses it
    return {key: value for key, value in row.items() if _given(key, value)}


BRAND_KEYWORD_ROWS: TypeAdapter[BrandKeywordRow] = TypeAdapter(
    Annotated[BrandKeywordRow, BeforeValidator(_brand_keyword_shape), AfterValidator(_window_in_order)])


def to_brand_keyword(row: BrandKeywordRow) -> BrandKeyword:
    """The validated row as the value the indexer works with (brand id and id derived when not given)."""
    if landing := row.pop("landing", None):
        row["landing_products"] = landing.get("products", ()) + row.get("landing_products", ())
        row["landing_categories"] = landing.get("categories", ()) + row.get("landing_categories", ())
    if "brand_id" not in row:
        row["brand_id"] = normalize(row["brand"])
    if "id" not in row:
        row["id"] = f"{row['brand_id']}:{normalize(row['keyword'])}"
    return BrandKeyword(**row)  # type: ignore[arg-type]  # `match` is a MatchKind: `one_of` checked it
