"""The analytics layer's request models: a click on a search result, an analytics window."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from search_api.core.validation import is_bool, is_bool_or_text, refuse
from search_api.personal.events import MAX_POSITION, QUERY_ID_PATTERN, Id

_JsonInteger = refuse(is_bool_or_text, "must be an integer")
_QueryInteger = refuse(is_bool, "must be an integer")  # query strings are text
MAX_DAYS = 3650


class Click(BaseModel):
    """`POST /clicks`: a shopper clicked a search result (public: the search page sends it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    query_id: Annotated[str, StringConstraints(pattern=QUERY_ID_PATTERN)] = Field(
        description="The answer's `meta.query_id`.")
    product_id: Id = Field(description="The product clicked.")
    position: Annotated[int, _JsonInteger] = Field(ge=1, le=MAX_POSITION,
                                                   description="Its 1-based position in the answer.")
    user_id: Id | None = Field(None, description="The shopper, when known (the click then feeds their profile).")


class AnalyticsParams(BaseModel):
    """`GET /analytics`: the window and the optional slices."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: Annotated[int, _QueryInteger] = Field(7, ge=1, le=MAX_DAYS,
                                                description="The last N UTC days (at most the retention: "
                                                            "`window.days` says what was covered).")
    lang: Annotated[str, StringConstraints(pattern=r"^(zh|en|ja|ko|und)$")] | None = Field(
        None, description="Only queries in this language (script-detected: zh, en, ja, ko, und).")
    brand_keyword: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        None, description="Only queries that hit this brand keyword.")
    top: Annotated[int, _QueryInteger] = Field(20, ge=1, le=200, description="Rows of each top list.")
