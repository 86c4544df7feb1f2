"""Response models of the merchandising-rule routes (`/rules`, `/rules/<id>`), for the contract.

The request model is `rules.model.RuleBody`; these describe what the store answers.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from search_api.http.schemas import _Open


class StoredRule(_Open):
    """A merchandising rule as stored: the body that was put, its id and when it changed."""

    id: str
    kind: Literal["pin", "hide", "boost", "bury"]
    query: str = Field(description="The rule's query, normalised.")
    match: Literal["exact", "phrase", "contains"]
    products: list[str]
    priority: int
    position: int | None = Field(None, description="Pins: the 1-based place of the first product.")
    by: int | None = Field(None, description="Boosts and buries: places moved.")
    active_from: str | None = None
    active_to: str | None = None
    note: str | None = None
    updated: str
    revision: int


class RuleList(BaseModel):
    """Every rule, by id."""

    rules: list[StoredRule]


class RuleDeleted(BaseModel):
    """A rule deleted."""

    id: str
    deleted: bool
