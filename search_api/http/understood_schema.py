"""The contract's shape of query understanding's parts (`meta.understood`, `explain.understood`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class UnderstoodPart(BaseModel):
    """A part of the query that query understanding recognised (it boosts, never filters)."""

    kind: Literal["brand", "color", "size", "gender", "age", "material", "price"]
    text: str = Field(description="The words that named it, as the vocabulary writes them.")
    value: str = Field(description="The catalog's brand, a colour (`black`), a size, `female`, `kids`, a material, "
                                   "or a price wish: `<=50`, `>=100`, `50-100`, `cheap`.")
