"""API keys and scopes for the write, per-user and audit endpoints; search stays public.

A key is read from `X-API-Key` or `Authorization: Bearer <key>` (else, on GET and HEAD, from the
dashboard's signed session: `browser_session`) and matched against the hashes of
the configured keys (`keyring.KeyRing`). No key, or an unknown one: 401. A known key without the
endpoint's scope: 403 naming the scope. With no key configured at all the protected endpoints
refuse everyone: an unset secret must not mean "open".
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app, g, request

from search_api.core.credentials import Caller
from search_api.core.errors import Forbidden, Unauthorized
from search_api.http import browser_session
from search_api.http.keyring import KeyRing

KEYS = "storesearch.keys"
"""Where the app keeps its `KeyRing` (`app.extensions`)."""

_UNSET = object()


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key a request carries, if any."""
    key = headers.get("X-API-Key")
    if key:
        return key.strip()
    scheme, _, token = (headers.get("Authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def keyring() -> KeyRing:
    """The app's key ring."""
    return current_app.extensions[KEYS]  # type: ignore[no-any-return]


def caller() -> Caller | None:
    """Whose valid key the current request carries (None: no key or an unknown one); once per request."""
    found = g.get("storesearch_caller", _UNSET)
    if found is _UNSET:
        key = presented_key(request.headers)
        found = keyring().identify(key) if key else browser_session.session_caller(keyring())
        g.storesearch_caller = found
    return found  # type: ignore[return-value]


def allows(scope: str) -> bool:
    """Whether the request carries a valid key holding `scope` (public endpoints then show more)."""
    who = caller()
    return who is not None and who.can(scope)


def require(scope: str) -> Caller:
    """The caller, when its key holds `scope`.

    Raises:
        Unauthorized: no key configured, none presented, or an unknown one.
        Forbidden: a valid key without `scope`.

    """
    who = caller()
    if who is None:
        if not keyring().configured:
            raise Unauthorized("this endpoint needs an API key, and none is configured "
                               "(STORESEARCH_API_KEYS_FILE or STORESEARCH_API_KEY)")
        if presented_key(request.headers) is None:
            raise Unauthorized("missing API key: send it in the X-API-Key header", field="X-API-Key")
        raise Unauthorized("wrong API key", field="X-API-Key")
    if not who.can(scope):
        raise Forbidden(scope)
    return who
