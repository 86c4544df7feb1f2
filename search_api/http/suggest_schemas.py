"""Response models of `GET /suggest` (see `schemas` for how the contract uses them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from search_api.http.schemas import _Open


class BrandKeywordOwner(_Open):
    """The brand that owns a suggested brand keyword."""

    id: str = Field(description="The brand keyword's id.")
    keyword: str
    brand_id: str
    brand: str


class Suggestion(_Open):
    """One search-box suggestion."""

    text: str = Field(description="What to show and, when picked, to search for.")
    kind: Literal["query", "product", "brand", "category"] = Field(
        description="A popular past query, a product phrase, a brand (or brand keyword) or a category.")
    brand_keyword: BrandKeywordOwner | None = Field(description="Set when the text is an active brand keyword.")


class SuggestMeta(_Open):
    """How the suggestions were made."""

    took_ms: float
    personal: bool = Field(description="The shopper's affinity brands and categories were moved up.")


class SuggestAnswer(BaseModel):
    """Suggestions for a prefix, best first, one per normalised text."""

    suggestions: list[Suggestion]
    meta: SuggestMeta
