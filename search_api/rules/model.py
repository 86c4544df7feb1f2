"""A merchandising rule as operators write it: the `RuleBody` request model of `PUT /rules/<id>`.

One model per kind (a tagged union on `kind`), so the published schema states which fields each
kind takes: a pin has a `position`, a boost or bury a `by`, a hide neither. Checks a JSON Schema
cannot state are the model's own: the window's order, a pin's last position within range, and a
query with words left after analysis. Checks against stored data (known products, overlapping
pins) are `store.check`'s.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    ValidationError,
    model_validator,
)

from indexer.index_format import normalize, tokens
from search_api.core.errors import InvalidParameter
from search_api.core.validation import invalid_parameter, not_blank, problem

RULE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
"""A rule's id, chosen by its author: a slug (`summer-pillow-pin`), safe in a URL and a file name."""
Match = Literal["exact", "phrase", "contains"]
Kind = Literal["pin", "hide", "boost", "bury"]
KINDS: tuple[str, ...] = ("pin", "hide", "boost", "bury")
MAX_QUERY_CHARS = 256
"""As long as a search query may be (`params.MAX_QUERY_CHARS`)."""
MAX_POSITION = 100
"""Pins reach the first five pages of 20: merchandising is about what shoppers see first."""
MAX_PRODUCTS = 50
MAX_MOVE = 1000
"""A boost or bury moves a product at most this many places (the paging depth)."""
DEFAULT_MOVE = 10
"""Half a page of 20: a boost lifts a product into view without overriding the best matches."""
MAX_PRIORITY = 1_000_000
PRODUCT_ID = r"^[^\x00-\x1f\x7f-\x9f]{1,128}$"


def _words(text: str) -> str:
    if not tokens(text):
        raise problem("has no words to match after analysis (only stop words or symbols)")
    return text


Query = Annotated[str, AfterValidator(normalize), StringConstraints(min_length=1, max_length=MAX_QUERY_CHARS),
                  not_blank(), AfterValidator(_words)]
ProductId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=PRODUCT_ID)]


class _Rule(BaseModel):
    """What every kind of rule has: the queries it matches, its products, window and priority."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    query: Query = Field(description="The query text; analysed like a search query (case, width, plurals, "
                                     "stop words and Chinese word breaks do not matter).")
    match: Match = Field("exact", description="`exact`: the search's words are the rule's words; `phrase`: the "
                                              "rule's words appear together, in order; `contains`: all of the "
                                              "rule's words appear (Chinese: the rule's text is inside the query).")
    products: list[ProductId] = Field(min_length=1, max_length=MAX_PRODUCTS, json_schema_extra={"uniqueItems": True},
                                      description="Product ids (known to the live index).")
    active_from: AwareDatetime | None = Field(None, description="Inactive before this time (RFC 3339, with offset).")
    active_to: AwareDatetime | None = Field(None, description="Inactive from this time on (after active_from).")
    priority: int = Field(0, ge=-MAX_PRIORITY, le=MAX_PRIORITY,
                          description="Higher wins when rules of one kind conflict for a search.")
    note: str | None = Field(None, max_length=500, description="Why the rule exists (a campaign, a recall).")

    @model_validator(mode="after")
    def _consistent(self) -> _Rule:
        if len(set(self.products)) != len(self.products):
            raise problem("must not repeat a product", "products")
        if self.active_from and self.active_to and self.active_to <= self.active_from:
            raise problem("must be after active_from", "active_to")
        return self


class PinRule(_Rule):
    """Pin: the products at `position`, `position + 1`, … of the results, found by the search or not."""

    kind: Literal["pin"]
    position: int = Field(ge=1, le=MAX_POSITION, description="1-based place of the first product.")

    @model_validator(mode="after")
    def _in_range(self) -> PinRule:
        if self.position + len(self.products) - 1 > MAX_POSITION:
            raise problem(f"+ the number of products - 1 must be at most {MAX_POSITION}", "position")
        return self


class HideRule(_Rule):
    """Hide: the products never appear for the matching searches."""

    kind: Literal["hide"]


class MoveRule(_Rule):
    """Boost (up) or bury (down): found products move `by` places within the results."""

    kind: Literal["boost", "bury"]
    by: int = Field(DEFAULT_MOVE, ge=1, le=MAX_MOVE, description="Places to move.")


class RuleBody(RootModel[Annotated[PinRule | HideRule | MoveRule, Field(discriminator="kind")]]):
    """The body of `PUT /rules/<id>`: one rule of a kind."""


AnyRule = PinRule | HideRule | MoveRule


def parse_rule(body: Any) -> AnyRule:
    """A rule from a JSON object.

    Raises:
        InvalidParameter: naming the field (`kind` when it is missing or unknown).

    """
    if not isinstance(body, dict):
        raise InvalidParameter("body must be a JSON object", field="body")
    try:
        return RuleBody.model_validate(body).root
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        if first["type"].startswith("union_tag"):
            raise InvalidParameter(f"kind must be one of {', '.join(KINDS)}", field="kind") from None
        raise invalid_parameter(exc, tags=frozenset(KINDS)) from None


def stored(rule_id: str, rule: AnyRule, *, updated: datetime, revision: int) -> dict[str, Any]:
    """The document of a rule in `<prefix>-rules` (the body as validated, plus bookkeeping)."""
    return {"id": rule_id, **rule.model_dump(mode="json", exclude_none=True),
            "query_key": " ".join(tokens(rule.query)), "updated": updated.isoformat(), "revision": revision}
