"""Headers every answer carries: browser security headers and CORS for configured origins.

The API answers JSON to programs and, once, an HTML report to people. No answer may be framed,
sniffed into another type or leak the page a shopper came from. JSON gets a policy that loads
nothing (`default-src 'none'`); a route that serves HTML sets its own policy first, allowing
exactly what that page needs (the audit report: its one inline stylesheet, by hash).

CORS: only the origins in `STORESEARCH_CORS_ORIGINS` get `Access-Control-Allow-Origin` (their
own origin echoed, never `*`), and a preflight from them is answered with the methods and
headers the API reads. Every answer says `Vary: Origin` when CORS is on, so a cache never
serves one origin's answer to another. flask-cors would do this, but needs four of its defaults
overridden to be this strict (it lists every configured origin on requests without an Origin,
adds `Vary` only for several origins, and reads origins with `*` or `$` as regular expressions);
the rule is short enough to own.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, request

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
"""Headers on every answer, errors included (also written by `server` for the server's own errors)."""

JSON_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
"""The policy of every answer whose route set none: the answer may load, run and embed nothing."""

CORS_METHODS = "GET, POST"
CORS_HEADERS = "Content-Type, X-API-Key, Authorization"
CORS_MAX_AGE = "600"
CORS_EXPOSE = "Retry-After"
"""Response headers a page's script may read besides the safelisted ones (a 429's wait)."""


def html_csp(style_hashes: Iterable[str]) -> str:
    """A page policy allowing only the inline stylesheets with these `sha256-…` hashes."""
    styles = " ".join(f"'{h}'" for h in style_hashes) or "'none'"
    return f"default-src 'none'; style-src {styles}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def install(app: Flask, cors_origins: Iterable[str]) -> None:
    """Add the headers to every answer of `app` (after-request hooks also see error answers)."""
    allowed = frozenset(origin.lower() for origin in cors_origins)

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", JSON_CSP)
        if allowed:
            _cors(response, allowed)
        return response


def _cors(response: Response, allowed: frozenset[str]) -> None:
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if origin is None or origin.lower() not in allowed:
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE
    if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
