"""API keys for the write and per-user endpoints; search stays public (without a shopper's profile).

A key is read from `X-API-Key` or `Authorization: Bearer <key>` and compared in constant time.
With no `STORESEARCH_API_KEY` configured the protected endpoints refuse everyone: an unset
secret must not mean "open".
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from search_api.core.errors import Unauthorized


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key a request carries, if any."""
    key = headers.get("X-API-Key")
    if key:
        return key.strip()
    scheme, _, token = (headers.get("Authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def has_key(configured: str | None, headers: Mapping[str, str]) -> bool:
    """Whether the request carries the configured key (public endpoints show it more)."""
    key = presented_key(headers)
    if not configured or key is None:
        return False
    return hmac.compare_digest(key.encode(), configured.encode())


def require_key(configured: str | None, headers: Mapping[str, str]) -> None:
    """Return when the request carries the configured key.

    Raises:
        Unauthorized: no key configured, none presented, or a wrong one.

    """
    if not configured:
        raise Unauthorized("this endpoint needs an API key, and none is configured (STORESEARCH_API_KEY)")
    key = presented_key(headers)
    if key is None:
        raise Unauthorized("missing API key: send it in the X-API-Key header", field="X-API-Key")
    if not hmac.compare_digest(key.encode(), configured.encode()):
        raise Unauthorized("wrong API key", field="X-API-Key")
