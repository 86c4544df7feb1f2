"""Search requests: the `SearchParams` model of a query string or JSON body, and the `SearchRequest` it yields.

`SearchParams` is the wire contract (names as sent: `from`, `brand`, `category`); `SearchRequest`
is the frozen value every leg reads. The request stays a plain dataclass because code builds and
`replace()`s it (audit cells, the brand zone) with values already valid, and it carries validated
`Event`s rather than their JSON: building one must not re-validate anything.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SkipValidation,
    StringConstraints,
    model_validator,
)

from indexer.index_format import normalize
from search_api.core.errors import InvalidParameter
from search_api.core.validation import NonBlank, is_bool, not_blank, problem, refuse, single_values, strings, validate
from search_api.personal.events import Event, HistoryEvent


class Mode(StrEnum):
    """Which legs answer: both fused, or one alone."""

    HYBRID = "hybrid"
    KEYWORD = "keyword"
    SEMANTIC = "semantic"


class Fusion(StrEnum):
    """How a hybrid search merges its legs (see `fusion`): by ranks, or by normalised scores."""

    RRF = "rrf"
    LINEAR = "linear"


class Sort(StrEnum):
    """Result order: fused relevance, or a field of the relevant candidates."""

    RELEVANCE = "relevance"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    SALES = "sales"
    RATING = "rating"
    NEWEST = "newest"


class Status(StrEnum):
    """A product's shelf status a shopper may ask for (deleted products are never shown)."""

    ON_SALE = "on_sale"
    SOLD_OUT = "sold_out"
    OFF_SHELF = "off_shelf"


FACETS = ("brand", "category", "price", "color", "rating", "in_stock")
"""The facets an answer can count (`facets=all` asks for every one)."""
_FACET_NAME = "(?:all|" + "|".join(FACETS) + ")"
FACETS_PATTERN = f"^{_FACET_NAME}(?:,{_FACET_NAME})*$"
PRICE_BAND_PATTERN = r"^\d{1,9}(?:\.\d{1,2})?-(?:\d{1,9}(?:\.\d{1,2})?)?$"
"""A price facet value: `low-high` (low ≤ price < high) or `low-` (no upper bound)."""
MAX_RATING = 5.0


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
    understand: bool | None = None
    """Query understanding on or off for this search (None: the `understand` setting)."""
    brands: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    price_min: float | None = None
    price_max: float | None = None
    sort: Sort = Sort.RELEVANCE
    colors: tuple[str, ...] = ()
    shops: tuple[str, ...] = ()
    price_bands: tuple[tuple[float, float | None], ...] = ()
    """Price facet values as (low, high or None): low ≤ price < high, OR-ed."""
    rating_min: float | None = None
    statuses: tuple[Status, ...] = ()
    """Shelf statuses shown; empty means on sale only."""
    facets: tuple[str, ...] = ()
    """The facets to count (`FACETS` names)."""
    user_id: str | None = None
    history: tuple[Event, ...] | None = None
    """Inline history (POST only); given, it replaces stored events, even when empty."""
    fusion: Fusion | None = None
    """This request's fusion; None: the `fusion` setting."""
    semantic_weight: float | None = None
    """This request's semantic leg weight (keyword's is 1); None: the `semantic_weight` setting."""


_FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _flag(value: Any) -> bool:
    """A query string's boolean (true/false, 1/0, yes/no, any case) or a JSON one."""
    if isinstance(value, bool):
        return value
    flag = _FLAGS.get(str(value).lower())
    if flag is None:
        raise problem("must be true or false")
    return flag


def _filter_values(value: Any) -> tuple[str, ...]:
    """One value or several (a repeated query-string key, a JSON array); each a non-empty string."""
    values = strings(value if isinstance(value, list | tuple) else [value])
    if values is None:
        raise problem("values must be non-empty strings")
    return values


QUERY_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*[^\W_][^\x00-\x1f\x7f-\x9f]*$"
"""What `_searchable` accepts, for the published contract (clients and fuzzers read it)."""


def _searchable(text: str) -> str:
    """Refuse control characters (no keyboard types them) and text with nothing to search for."""
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise problem("must not contain control characters")
    if not any(ch.isalnum() for ch in text):
        raise problem("has no letters or digits to search for")
    return text


def _band(value: str) -> tuple[float, float | None]:
    """A price facet value as (low, high or None); a band with high ≤ low matches nothing."""
    low, _, high = value.partition("-")
    return float(low), float(high) if high else None


def _stock(value: Any) -> Any:
    """`in_stock` values: JSON booleans read as the query string's `true`/`false`."""
    items = value if isinstance(value, list | tuple) else [value]
    return [str(v).lower() if isinstance(v, bool) else v for v in items]


def wanted_facets(values: Sequence[str]) -> tuple[str, ...]:
    """The facets named by `facets` values (comma lists; `all` is every facet), in `FACETS` order."""
    named = {name for value in values for name in value.split(",")}
    return FACETS if "all" in named else tuple(f for f in FACETS if f in named)


_Integer = refuse(is_bool, "must be an integer")
_Number = refuse(is_bool, "must be a number")
Query = Annotated[str, AfterValidator(normalize), StringConstraints(min_length=1, max_length=MAX_QUERY_CHARS),
                  not_blank(), AfterValidator(_searchable)]
"""Length counted after normalising (NFKC, lower case, one space between words)."""
UserId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_USER_ID_CHARS),
                   not_blank()]
"""A shopper id as sent by search and suggestion requests."""
FilterValues = Annotated[tuple[NonBlank, ...], Field(max_length=MAX_FILTER_VALUES), BeforeValidator(_filter_values)]
Stock = Annotated[tuple[Literal["true", "false"], ...], Field(max_length=2),
                  BeforeValidator(_filter_values), BeforeValidator(_stock)]
"""`in_stock` values (`_stock` runs first: pydantic runs before-validators last to first)."""
_SCALARS = frozenset({"q", "size", "from", "mode", "explain", "understand", "price_min", "price_max", "rating_min",
                      "sort", "user_id", "fusion", "semantic_weight"})
MAX_SEMANTIC_WEIGHT = 10.0
"""The `semantic_weight` setting's bound too: keyword's weight is 1, so 10 lets semantic all but decide."""


class SearchParams(BaseModel):
    """The parameters of `GET /search` (query string) and of `POST /search` (a JSON object).

    A query string arrives as a flat mapping: a repeated key is a list, an empty value is absent,
    and every value is a string coerced to its field's type ("10" → 10, "yes" → true).
    """

    model_config = ConfigDict(frozen=True, extra="ignore", allow_inf_nan=False, json_schema_extra={
        "not": {"required": ["user_id", "history"], "properties": {  # `parse_search`: one or the other
            "user_id": {"type": "string"}, "history": {"type": "array"}}}})

    q: Query = Field(description="What the shopper typed; normalised before matching. No control characters; "
                                 "at least one letter or digit.", json_schema_extra={"pattern": QUERY_PATTERN})
    size: Annotated[int, _Integer] = Field(20, ge=1, le=MAX_SIZE, description="Results per page.")
    offset: Annotated[int, _Integer] = Field(
        0, alias="from", ge=0, le=MAX_DEPTH, description=f"Results to skip; from + size ≤ {MAX_DEPTH}.")
    mode: Mode = Field(Mode.HYBRID, description="Which legs answer: both fused, or one alone.")
    explain: Annotated[bool, BeforeValidator(_flag)] = Field(
        False, description="Per-result scores of each leg (true/false, 1/0, yes/no).")
    understand: Annotated[bool | None, BeforeValidator(_flag)] = Field(
        None, description="Recognise brands, colours, sizes, gender/age words, materials and prices in the query "
                          "and boost products that have them (never a filter); default: on "
                          "(`STORESEARCH_UNDERSTAND`). `meta.understood` lists what was recognised.")
    brand: FilterValues = Field((), description="Only these brands (repeat the key for several).")
    category: FilterValues = Field((), description="Only these categories, at any level of the path.")
    price_min: Annotated[float | None, _Number] = Field(None, ge=0, description="Lowest price, inclusive.")
    price_max: Annotated[float | None, _Number] = Field(None, ge=0, description="Highest price, inclusive.")
    sort: Sort = Field(Sort.RELEVANCE, description="Result order: relevance, or price/sales/rating/newest over "
                                                   "every eligible product, relevance breaking ties.")
    color: FilterValues = Field((), description="Only these colours (repeat the key for several).")
    shop: FilterValues = Field((), description="Only these shops (repeat the key for several).")
    price: Annotated[tuple[Annotated[str, StringConstraints(pattern=PRICE_BAND_PATTERN)], ...],
                     Field(max_length=MAX_FILTER_VALUES), BeforeValidator(_filter_values)] = Field(
        (), description="Price bands as the price facet names them: `low-high` (low ≤ price < high) or `low-`; "
                        "several are OR-ed, and AND-ed with price_min/price_max.")
    rating_min: Annotated[float | None, _Number] = Field(
        None, ge=0, le=MAX_RATING, description="Lowest rating, inclusive (the rating facet's values).")
    in_stock: Stock = Field(
        (), description="`true`: on sale; `false`: sold out; both: either. Default: on sale only.")
    status: Annotated[tuple[Status, ...], Field(max_length=len(Status)), BeforeValidator(_filter_values)] = Field(
        (), description="Shelf statuses to show (with in_stock's, OR-ed). Default: on_sale; sold-out and "
                        "off-shelf products are shown only when asked for.")
    facets: Annotated[tuple[Annotated[str, StringConstraints(pattern=FACETS_PATTERN)], ...],
                      Field(max_length=MAX_FILTER_VALUES), BeforeValidator(_filter_values)] = Field(
        (), description="Facets to count over the eligible set: " + ", ".join(FACETS) + ", or all "
                        "(comma-separated or repeated).")
    fusion: Fusion | None = Field(None, description="Hybrid only: rrf (reciprocal ranks) or linear (each leg's "
                                                     "scores min-max normalised, weighted sum). Default: the "
                                                     "server's setting.")
    semantic_weight: Annotated[float | None, _Number] = Field(
        None, ge=0, le=MAX_SEMANTIC_WEIGHT, description="Hybrid only: the semantic leg's weight in the fusion "
                                                        "(keyword's is 1). Default: the server's setting.")
    user_id: UserId | None = Field(None, description="Personalise with this shopper's stored viewing history.")
    history: SkipValidation[list[HistoryEvent] | None] = Field(
        None, description="POST only: an inline viewing history used instead of stored events (even when "
                          "empty); not with user_id. Validated by `events.parse_history`.")

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        """One value per scalar field (a list is a repeated key); empty scalars and nulls are absent."""
        return single_values(data, _SCALARS)

    @model_validator(mode="after")
    def _consistent(self) -> SearchParams:
        if self.offset + self.size > MAX_DEPTH:
            raise problem(f"+ size must be at most {MAX_DEPTH}", "from")
        if self.price_min is not None and self.price_max is not None and self.price_min > self.price_max:
            raise problem("must not exceed price_max", "price_min")
        return self

    def request(self, history: Sequence[Event] | None = None) -> SearchRequest:
        """The search these parameters ask for, with an already validated inline history."""
        return SearchRequest(
            q=self.q, size=self.size, offset=self.offset, mode=self.mode, explain=self.explain,
            understand=self.understand,
            brands=self.brand, categories=self.category, price_min=self.price_min, price_max=self.price_max,
            sort=self.sort, colors=self.color, shops=self.shop, price_bands=tuple(_band(b) for b in self.price),
            rating_min=self.rating_min, statuses=self.statuses(), facets=wanted_facets(self.facets),
            user_id=self.user_id, history=tuple(history) if history is not None else None,
            fusion=self.fusion, semantic_weight=self.semantic_weight)

    def statuses(self) -> tuple[Status, ...]:
        """The statuses asked for through `status` and `in_stock` (empty: the default, on sale)."""
        stock = {"true": Status.ON_SALE, "false": Status.SOLD_OUT}
        return tuple(dict.fromkeys((*self.status, *(stock[v] for v in self.in_stock))))


def parse_search(source: Mapping[str, Any], *, history: Sequence[Event] | None = None) -> SearchRequest:
    """Validate a search from a flat mapping (lists for repeated query-string keys) or a JSON object.

    `history` is the already validated inline history of a POST body (`events.parse_history`);
    a `history` key in `source` without it (a query string) is refused.

    Raises:
        InvalidParameter: naming the first bad field.

    """
    if history is None and source.get("history") is not None:
        raise InvalidParameter("history is accepted in a POST /search JSON body only", field="history")
    params = validate(SearchParams, source)
    if history is not None and params.user_id:
        raise InvalidParameter("give user_id or history, not both", field="history")
    return params.request(history)
