"""Suggestion requests: the `SuggestParams` model of the query string and the `SuggestRequest` it yields.

A suggestion request runs on every keystroke, so its limits are tighter than a search's: a short
prefix, a handful of answers. Validation reuses the search request's pieces (`validate` names the
field; `UserId` is the same shopper id).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from indexer.index_format import normalize
from search_api.core.validation import WHITE_SPACE, is_bool, not_blank, refuse, single_values, validate
from search_api.retrieval.params import UserId

MAX_PREFIX_CHARS = 64
"""Nobody types 64 characters into a search box before picking a suggestion; longer is a search."""
MAX_SUGGESTIONS = 20
DEFAULT_SUGGESTIONS = 8


def has_control(value: Any) -> bool:
    """Control characters (C0, C1, DEL) in what should be typed text."""
    return isinstance(value, str) and any(unicodedata.category(ch) == "Cc" for ch in value)


CONTROL = r"\u0000-\u001f\u007f-\u009f"
TYPED = f"^[^{CONTROL}]*[^{CONTROL}{WHITE_SPACE}][^{CONTROL}]*$"
"""JSON Schema `pattern` of a prefix: no control character, and more than white space."""
Prefix = Annotated[str, refuse(has_control, "must not contain control characters"), AfterValidator(normalize),
                   StringConstraints(min_length=1, max_length=MAX_PREFIX_CHARS), not_blank(pattern=TYPED)]
"""Length counted after normalising (NFKC, lower case, one space between words)."""


@dataclass(frozen=True)
class SuggestRequest:
    """A validated suggestion request; `q` is normalised."""

    q: str
    size: int = DEFAULT_SUGGESTIONS
    user_id: str | None = None


class SuggestParams(BaseModel):
    """The parameters of `GET /suggest` (query string)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    q: Prefix = Field(description="What the shopper has typed so far: Chinese, pinyin (full or initials) or "
                                  "English; normalised before matching.")
    size: Annotated[int, refuse(is_bool, "must be an integer")] = Field(
        DEFAULT_SUGGESTIONS, ge=1, le=MAX_SUGGESTIONS, description="Suggestions wanted.")
    user_id: UserId | None = Field(None, description="Put this shopper's favourite brands and categories first.")

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        """One value per field (a repeated key is refused); an empty `size` or `user_id` is absent."""
        return single_values(data, None, keep_empty=("q",))


def parse_suggest(source: Mapping[str, Any]) -> SuggestRequest:
    """Validate a suggestion request from a flat mapping (lists for repeated query-string keys).

    Raises:
        InvalidParameter: naming the first bad field.

    """
    params = validate(SuggestParams, source)
    return SuggestRequest(q=params.q, size=params.size, user_id=params.user_id)
