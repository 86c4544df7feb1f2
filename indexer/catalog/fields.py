"""The field types of catalog rows, as pydantic metadata: `Annotated[str, Text(200)]`.

Constraints pydantic checks natively (text length, number ranges, whole and finite numbers, JSON
values) are declared with `Field`/`StringConstraints` so they run in pydantic-core; Python runs
only where pydantic has no native rule (no booleans as numbers, a category path in one string,
epoch times, a choice named in any case). Those rules and the number errors raise `refuse(reason)`
with the final wording; `validate.field_error` words the rest and names the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from annotated_types import GroupedMetadata
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    JsonValue,
    PlainValidator,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

REFUSED = "catalog"
"""Error type of the rules written here: their message is final."""

CATEGORY_SPLIT = re.compile(r"\s*(?:>|/|\|)\s*")
"""A category path given as one string: `a > b > c`, `a/b/c` or `a|b|c`."""


def refuse(reason: str, *, field: str | None = None) -> PydanticCustomError:
    """A validation error whose message is `reason` verbatim (braces in values are no placeholders).

    `field` names the field when the error is raised for a whole row (where pydantic has no location).
    """
    ctx = {"reason": reason} if field is None else {"reason": reason, "field": field}
    return PydanticCustomError(REFUSED, "{reason}", ctx)


@dataclass(frozen=True)
class Text(GroupedMetadata):
    """Stripped text of at most `limit` characters; a number becomes its text (ids are often numbers).

    `required` refuses blank text (rows drop missing and blank values before their fields are
    validated; this guards the rule where it is declared). Pydantic's lax `str` also reads UTF-8
    bytes and decimals (Parquet binary and decimal columns) as text: the hand-written check
    refused them, but a gate in Python on every text value would cost ~7% of validation.
    """

    limit: int | None = 10_000
    required: bool = False

    def __iter__(self) -> Iterator[object]:
        yield StringConstraints(strip_whitespace=True, max_length=self.limit, min_length=1 if self.required else None)
        yield Field(coerce_numbers_to_str=True)


@dataclass(frozen=True)
class Number(GroupedMetadata):
    """A finite number in [low, high], numeric text too (CSV), on `Annotated[float]` or `Annotated[int]`.

    The checks are pydantic's (native). The wrap refuses what pydantic would coerce but a catalog
    must not give (booleans, bytes, decimals), words the errors with both bounds, and lets a field
    take numeric text Python reads but pydantic's parsers refuse (`"1e3"` for an int).
    """

    low: float
    high: float

    def __iter__(self) -> Iterator[object]:
        yield Field(ge=self.low, le=self.high, allow_inf_nan=False)
        yield WrapValidator(self._checked)

    def _checked(self, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if isinstance(value, bool):
            raise refuse("must be a number, got a boolean")
        if not isinstance(value, str | int | float):
            raise refuse(f"must be a number, got {type(value).__name__}")
        try:
            return handler(value)
        except ValidationError:
            number, reason = self._parsed(value)
            if reason is None:  # in range: text only Python reads ("1e3" for an int field), or a fraction
                try:
                    return handler(number)
                except ValidationError:
                    reason = f"must be a whole number, got {number:g}"
            raise refuse(reason) from None

    def _parsed(self, value: str | float) -> tuple[float, str | None]:
        """The number and why it is refused (None: a finite number in range)."""
        try:
            number = float(value)
        except ValueError:
            return math.nan, f"must be a number, got {value!r}"
        if not math.isfinite(number):
            return number, "must be a finite number"
        if not self.low <= number <= self.high:
            return number, f"must be between {self.low:g} and {self.high:g}, got {number:g}"
        return number, None


def _as_list(split: re.Pattern[str] | None) -> Callable[[Any], Any]:
    def as_list(value: Any) -> Any:
        if value is None:
            return ()
        if isinstance(value, str):
            return split.split(value) if split else (value,)
        return value

    return as_list


def _without_blanks(values: tuple[str, ...]) -> tuple[str, ...]:
    return values if all(values) else tuple(v for v in values if v)


@dataclass(frozen=True)
class Listed(GroupedMetadata):
    """A list of text, blank items dropped; one string is one item, or a path cut by `split`."""

    split: re.Pattern[str] | None = None

    def __iter__(self) -> Iterator[object]:
        yield AfterValidator(_without_blanks)
        yield BeforeValidator(_as_list(self.split))


Texts = tuple[Annotated[str, Text(limit=None)], ...]
"""The type `Listed` validates (items have no length limit)."""


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value  # epoch millis or seconds
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (ValueError, OverflowError, OSError):
            raise refuse(f"must be a time, got {value!r}") from None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise refuse(f"must be an ISO-8601 time, got {value!r}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise refuse(f"must be a time, got {type(value).__name__}")


Timestamp = Annotated[datetime, PlainValidator(_timestamp)]
"""A time in UTC: ISO-8601 text (`Z` allowed, no zone means UTC), epoch seconds or millis, a datetime.

Plain Python: pydantic's own parsing differs (epoch millis threshold, date-only text).
"""


def one_of(options: tuple[str, ...]) -> AfterValidator:
    """Text naming one of `options`, in any case (kept lower case)."""
    def check(value: str) -> str:
        lowered = value.lower()
        if lowered not in options:
            raise refuse(f"must be one of {', '.join(options)}, got {lowered!r}")
        return lowered

    return AfterValidator(check)


AttributeValue = str | int | float | bool | None | list[JsonValue]
"""An attribute is a JSON value but not an object: attributes are one level deep."""
