"""Ids taken from the URL path, checked before they reach Elasticsearch.

An id of 40,000 characters used to travel into a `term` query and come back as Elasticsearch's
`Term is longer than maximum indexable length` (a 503 quoting the engine). The route refuses it
first with a 400 naming the field.
"""

from __future__ import annotations

import re
import unicodedata

from search_api.core.errors import InvalidParameter
from search_api.core.validation import WHITE_SPACE
from search_api.rules.model import RULE_ID

MAX_USER_ID_CHARS = 128
"""The longest user id `POST /events` accepts (`personal.events.MAX_ID_CHARS`)."""

AUDIT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""Run ids are `a<yyyymmdd>t<hhmmss><µs>`; anything outside this shape cannot name one."""

RULE_ID_SCHEMA = {"type": "string", "pattern": f"^{RULE_ID.pattern}$"}

_PLAIN = r"\u0000-\u001f\u007f-\u009f/"
USER_ID_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_USER_ID_CHARS,
                  "pattern": f"^[^{_PLAIN}]*[^{_PLAIN}{WHITE_SPACE}][^{_PLAIN}]*$"}
"""`user_id` as the contract states it: no control characters, not blank, and no `/` (a path segment)."""


def audit_id_schema(*, suffix: str = "", query: bool = False, optional: bool = False) -> dict[str, str]:
    """An audit id as the contract states it, for the routes that check it with `audit_id`.

    `suffix` is a regex after the id (the `.csv` export); in a `query` string surrounding spaces
    are ignored, and an `optional` one may be empty.
    """
    core = f"({AUDIT_ID.pattern}{suffix})?" if optional else AUDIT_ID.pattern + suffix
    pad = r"\s*" if query else ""
    return {"type": "string", "pattern": f"^{pad}{core}{pad}$"}


def user_id(value: str) -> str:
    """A user id as events store it: 1-128 characters, no control characters.

    Raises:
        InvalidParameter: field `user_id`.

    """
    if not value.strip() or len(value) > MAX_USER_ID_CHARS or any(
            unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise InvalidParameter(f"user_id must be 1-{MAX_USER_ID_CHARS} characters without control characters",
                               field="user_id")
    return value


def audit_id(value: str, field: str = "id") -> str:
    """An audit run id: 1-64 letters, digits, `_` or `-`.

    Raises:
        InvalidParameter: naming `field` (`id` in the path, `base`/`head` in a query string).

    """
    if not AUDIT_ID.fullmatch(value):
        raise InvalidParameter(f"{field} must be an audit id (1-64 letters, digits, _ or -)", field=field)
    return value


def rule_id(value: str) -> str:
    """A rule id: 1-64 letters, digits, `.`, `_` or `-`.

    Raises:
        InvalidParameter: field `rule_id`.

    """
    if not RULE_ID.fullmatch(value):
        raise InvalidParameter("rule_id must be 1-64 letters, digits, ., _ or -", field="rule_id")
    return value
