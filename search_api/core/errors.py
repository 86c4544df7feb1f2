"""Errors of the search API and their JSON form.

    ApiError                 every error answered as JSON {"error": {code, message, field}}
    ├── InvalidParameter     400: a request field is missing or out of range (names the field)
    │   ├── InvalidEvents    400: events of a batch failed validation (each with its index and field)
    │   └── InvalidJson      400: a body beyond the parser's limits (too deep, non-finite numbers)
    ├── Unauthorized         401: a protected endpoint without a valid API key
    ├── Forbidden            403: a valid key without the scope the endpoint needs (names it)
    ├── NotFound             404
    ├── InvalidSynonyms      422: a synonym file refused on reload (names file:line; the previous set stays)
    ├── RateLimited          429: the caller's token bucket is empty (Retry-After header)
    └── Unavailable          503: nothing could answer (no index yet, storage down)
        └── SearchUnavailable    503 `search_unavailable`: a search failed on the engine (unreachable,
                                 every leg failed, products could not be fetched)

Foreign errors (Elasticsearch, FAISS) are translated where they happen; anything else becomes a
500 `internal_error` without a stack trace. A 4xx message describes the client's own request and
is answered as is; a 5xx one may carry what Elasticsearch said (index names, its parser's words),
so clients get the class's generic `public_message` and the detail goes to the log.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error with a stable code, an HTTP status and optionally the offending field."""

    status = 500
    code = "internal_error"
    public_message: str | None = None
    """What clients read instead of the message (None: the message itself)."""

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = dict(extra or {})
        if code:
            self.code = code

    def body(self) -> dict[str, Any]:
        """The JSON body of the response."""
        error: dict[str, Any] = {"code": self.code, "message": self.public_message or self.message}
        if self.field:
            error["field"] = self.field
        error.update(self.extra)
        return {"error": error}

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the body (none by default)."""
        return {}


class InvalidParameter(ApiError):
    """A request field is missing, malformed or out of range."""

    status = 400
    code = "invalid_parameter"


class InvalidEvents(InvalidParameter):
    """Some events of a batch are invalid; nothing of the batch was written."""

    code = "invalid_events"

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        """`problems`: [{"index", "field", "message"}], first one named in the message."""
        first = problems[0]
        super().__init__(f"event {first['index']}: {first['message']} ({len(problems)} invalid)",
                         field=first["field"], extra={"index": first["index"], "rejected": problems})


class InvalidJson(InvalidParameter):
    """A body that is JSON but beyond what the API parses: nested too deep, or a non-finite number."""

    code = "invalid_json"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="body")


class Unauthorized(ApiError):
    """Missing or wrong API key."""

    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    """A valid key that lacks the scope the endpoint needs; the body names the scope."""

    status = 403
    code = "forbidden"

    def __init__(self, scope: str) -> None:
        super().__init__(f"this API key lacks the scope {scope!r} (or 'admin') that this endpoint needs",
                         field="X-API-Key", extra={"scope": scope})


class RateLimited(ApiError):
    """Too many requests from one key or address; `Retry-After` says when a token is back."""

    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int, who: str) -> None:
        super().__init__(f"too many requests from this {who}; retry after {retry_after} s",
                         extra={"retry_after": retry_after})
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        """`Retry-After` in whole seconds, at least 1."""
        return {"Retry-After": str(self.retry_after)}


class NotFound(ApiError):
    """No such resource."""

    status = 404
    code = "not_found"


class InvalidSynonyms(ApiError):
    """A synonym file that does not parse; the set in force was kept."""

    status = 422
    code = "invalid_synonyms"

    def __init__(self, reason: str) -> None:
        """`reason`: `file:line: what is wrong`."""
        super().__init__(f"synonym file refused, the previous synonyms stay in force: {reason}", field="synonyms")


class Unavailable(ApiError):
    """The service cannot answer right now (no live index, engine down)."""

    status = 503
    code = "unavailable"
    public_message = "the service is temporarily unavailable; try again later"


class SearchUnavailable(Unavailable):
    """A search cannot be answered because the engine failed or cannot be reached; retry later."""

    code = "search_unavailable"
