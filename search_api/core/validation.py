"""One translation from pydantic's `ValidationError` to the API's `InvalidParameter` / `InvalidEvents`.

Request models (pydantic v2) do the validating; this module words their errors for people and
names the field as the client spelled it: `size`, `from`, `history[3].action`, `personas[0].label`.
A message starts with the field's own name ("size must be at most 100"); the full path is `field`.

Checks a model makes itself raise `problem(...)`: its message is used as written, and a check
spanning several fields (a model validator) names the one it reports with `at`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, Field, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from search_api.core.errors import InvalidEvents, InvalidParameter

M = TypeVar("M", bound=BaseModel)
Loc = tuple[int | str, ...]

PROBLEM = "invalid"
"""The error type of `problem()`."""

_PHRASES: dict[str, str] = {
    "missing": "is required",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "string_too_short": "must be at least {min_length} characters",
    "string_too_long": "must be at most {max_length} characters",
    "too_short": "must have at least {min_length} items",
    "too_long": "takes at most {max_length} values",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
}
_CHOICES = frozenset({"enum", "literal_error"})
_SHOWN_CHARS = 40


def problem(message: str, *at: int | str) -> PydanticCustomError:
    """An error a model's own check raises; `at` names the field below the validated value it is about."""
    return PydanticCustomError(PROBLEM, "{message}", {"message": message, "at": at})


def where(error: ErrorDetails) -> Loc:
    """The location an error is about: pydantic's `loc` (aliases, as sent) plus a problem's `at`."""
    at = error.get("ctx", {}).get("at", ()) if error["type"] == PROBLEM else ()
    return (*error["loc"], *at)


def path(loc: Loc, root: str) -> str:
    """`('personas', 0, 'label')` → `personas[0].label`; the empty location is `root`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or root


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS - 1] + "…"


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def describe(error: ErrorDetails, name: str) -> str:
    """A human sentence about one error; `name` is the path from its last field name on (`label`, `pairs[2]`)."""
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == PROBLEM:
        return f"{name} {ctx['message']}"
    if kind in _CHOICES:
        choices = str(ctx.get("expected", "")).replace("'", "")
        return f"{name} must be one of {choices}, got {_shown(error['input'])}"
    if kind == "extra_forbidden":
        return f"unknown field {name!r}"
    if kind in ("string_too_short", "too_short") and ctx.get("min_length") == 1:
        return f"{name} must not be empty"
    if kind in ("too_short", "too_long") and isinstance(error["input"], str):
        kind = f"string_{kind}"  # a length checked after a validator: still characters
    phrase = _PHRASES.get(kind)
    if phrase is None:
        msg = error["msg"]
        return f"{name}: {msg[:1].lower()}{msg[1:]}"
    return f"{name} {phrase.format(**{k: _number(v) for k, v in ctx.items()})}"


def _named(loc: Loc, root: str) -> tuple[str, str]:
    """(field path, the name a message starts with: from the last field name on, `pairs[2]`, `label`)."""
    last = max((i for i, part in enumerate(loc) if isinstance(part, str)), default=None)
    return path(loc, root), path(loc[last:], root) if last is not None else root


def invalid_parameter(exc: ValidationError, *, root: str = "body", tags: frozenset[str] = frozenset()
                      ) -> InvalidParameter:
    """The 400 for a request that failed validation, about its first error.

    `tags`: the values of a tagged union's discriminator, which pydantic puts in front of the
    location (`pin.position`); the client sent no such field, so they are left out.
    """
    error = exc.errors(include_url=False)[0]
    loc = where(error)
    field, name = _named(loc[1:] if loc and loc[0] in tags else loc, root)
    return InvalidParameter(describe(error, name), field=field)


def validate(model: type[M], data: Any, *, root: str = "body", context: Any = None) -> M:
    """`model` validated from `data` (a JSON object or a flat query-string mapping).

    Raises:
        InvalidParameter: naming the field of the first error (`root` for the value itself).

    """
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise invalid_parameter(exc, root=root) from None


def invalid_events(exc: ValidationError, *, root: str, within: str | None = None) -> InvalidParameter:
    """The 400 for a batch of events (a list validated as a whole) that failed validation.

    An error about the list itself (not a list, too long) is an `InvalidParameter` on `root`. Item
    errors are an `InvalidEvents` naming every bad index with its first bad field (an unknown field
    first, as it usually explains the rest); `within` prefixes the field (`history[3].ts`), and an
    item that is not an object is the field `event`.
    """
    first: dict[int, tuple[ErrorDetails, Loc]] = {}
    for error in sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden"):
        loc = where(error)
        if not loc or not isinstance(loc[0], int):
            field, name = _named(loc, root)
            return InvalidParameter(describe(error, name), field=field)
        first.setdefault(loc[0], (error, loc[1:]))
    problems = []
    for index in sorted(first):
        error, rest = first[index]
        field, name = _named(rest, "event")
        message = describe(error, name)
        if name == "event" and not rest:
            message = "each event must be a JSON object"
        problems.append({"index": index, "field": f"{within}[{index}].{field}" if within else field,
                         "message": message})
    return InvalidEvents(problems)


def validate_events(adapter: TypeAdapter[list[Any]], items: Any, *, root: str, within: str | None = None,
                   context: Any = None) -> list[Any]:
    """Every item of a batch validated, or one error naming every bad one (see `invalid_events`).

    Raises:
        InvalidParameter: the batch itself is wrong.
        InvalidEvents: some items are.

    """
    try:
        return adapter.validate_python(items, context=context)
    except ValidationError as exc:
        raise invalid_events(exc, root=root, within=within) from None


def refuse(test: Callable[[Any], bool], message: str) -> BeforeValidator:
    """A before-validator refusing inputs that lax mode would coerce (`True` into 1, "7" into 7)."""
    def check(value: Any) -> Any:
        if test(value):
            raise problem(message)
        return value
    return BeforeValidator(check)


def is_bool(value: Any) -> bool:
    """`True`/`False` given for a number."""
    return isinstance(value, bool)


def is_bool_or_text(value: Any) -> bool:
    """A boolean or a string given for a number in a JSON-only body."""
    return isinstance(value, bool | str)


WHITE_SPACE = r"\t-\r\u001c- \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""What `str.strip` removes, spelled out for a regex class: `\\s` differs between Python, ECMA and Rust."""
NOT_BLANK = f"[^{WHITE_SPACE}]"
"""JSON Schema `pattern` of a string `str.strip` leaves non-empty (pydantic's `strip_whitespace`
keeps U+001C-U+001F: for the fields it strips, the schema is that much stricter than the check)."""


def not_blank(**schema: Any) -> Any:
    """Schema only: the contract says a string must hold more than white space (plus `schema`).

    For strings a model strips and then refuses when empty: the check is the model's own, this
    tells clients (and the fuzzer) the rule; validation does not change.
    """
    return Field(json_schema_extra={"pattern": NOT_BLANK, **schema})


NonBlank = Annotated[str, not_blank()]
"""An item of a list of stripped, non-empty strings (`strings`)."""


def strings(values: Sequence[Any]) -> tuple[str, ...] | None:
    """Stripped values when every one is a non-empty string, else None (the caller words the error)."""
    out = []
    for item in values:
        if not isinstance(item, str) or not item.strip():
            return None
        out.append(item.strip())
    return tuple(out)


def single_values(data: Any, scalars: Collection[str] | None, *, keep_empty: Collection[str] = ()) -> Any:
    """A query string's mapping with one value per scalar key (`None`: every key is scalar).

    A repeated scalar key is refused (which value was meant?), one given once is unwrapped from
    its list, and an empty value (`size=`) or a null counts as absent unless in `keep_empty`.
    """
    if not isinstance(data, Mapping):
        return data
    out = {}
    for key, value in data.items():
        if scalars is None or key in scalars:
            if isinstance(value, list):
                if len(value) > 1:
                    raise problem("must be given once", key)
                value = value[0] if value else None
            if value == "" and key not in keep_empty:
                continue
        if value is not None:
            out[key] = value
    return out
