"""The single-process WSGI server (waitress), with its own errors answered in the API's JSON form.

Waitress refuses some requests before the app sees them: a request line it cannot parse (raw
non-ASCII bytes in the URI: "Bad URI"; a malformed method), bad headers, a body over its own
limit. It answers those as plain text. Its channel builds that answer in an `ErrorTask`; ours
writes `{"error": {"code", "message"}}` with the security headers instead. The status and
waitress's one-line reason are kept; there is no field to name, since the request could not be
read. This relies on waitress's `HTTPChannel.error_task_class` and `ErrorTask.execute`, stable
since waitress 1.0; tests/api/test_hardening.py sends raw bytes to a served app to hold it.
"""

from __future__ import annotations

from typing import Any

import orjson
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask

from search_api.http.headers import JSON_CSP, SECURITY_HEADERS

CODES = {400: "bad_request", 403: "forbidden", 413: "payload_too_large", 414: "uri_too_long",
         417: "expectation_failed", 431: "header_fields_too_large", 501: "not_implemented"}
ERROR_HEADERS = (("Content-Type", "application/json"), *SECURITY_HEADERS.items(), ("Content-Security-Policy", JSON_CSP))
"""Headers of a server's own error answer (the app's answers get theirs from `headers`)."""


def error_body(status: int, reason: str, detail: str) -> bytes:
    """The JSON error a server writes for a request the app never saw (no field: it was unreadable)."""
    message = f"{reason}: {detail}" if detail else reason
    return orjson.dumps({"error": {"code": CODES.get(status, "internal_error"), "message": message}})


class JsonErrorTask(ErrorTask):
    """Waitress's error answer as a JSON error body."""

    def execute(self) -> None:
        """Write the error (waitress closes the connection after it, as before)."""
        error = self.request.error
        body = error_body(error.code, error.reason, error.body)
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend(ERROR_HEADERS)
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JsonErrorChannel(HTTPChannel):
    """A connection whose server-side errors are JSON."""

    error_task_class = JsonErrorTask


def make_server(app: Any, *, host: str, port: int, threads: int) -> Any:
    """A waitress server for `app` (call `.run()`; port 0 picks a free one)."""
    sockets: dict[int, Any] = {}
    server = create_server(app, map=sockets, host=host, port=port, threads=threads, ident="storesearch")
    for listener in list(sockets.values()):  # one per address `host` resolves to
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = JsonErrorChannel
    return server
