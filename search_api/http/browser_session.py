"""The dashboard's sign-in: an API key entered once, kept as its hash in a signed session cookie.

A browser cannot add `X-API-Key` to a link, so the dashboard's own data calls (`/analytics`,
`/audits`) and the audit report links would need the key in every URL. Instead `POST
/dashboard/login` checks the key and stores its SHA-256 hash (never the key) in Flask's session
cookie, signed with `STORESEARCH_SESSION_SECRET` (or a secret made at start), HttpOnly (no script
reads it) and SameSite=Strict (no other site's page or link sends it). `auth.caller` accepts the
session only on GET and HEAD: reading data needs no more, and a forged cross-site POST could not
carry the cookie anyway. The key ring is consulted on every request, so a revoked or rotated key
signs its sessions out within a second.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Flask, request, session

from search_api.core.credentials import Caller, hash_key
from search_api.core.settings import ApiSettings
from search_api.http.keyring import KeyRing

COOKIE = "storesearch_session"
SESSION_LIFETIME = timedelta(hours=8)
"""A working day: long enough for the dashboard, short enough that a forgotten browser signs out."""
READ_METHODS = frozenset({"GET", "HEAD"})
_KEY = "key_hash"


def install(app: Flask, settings: ApiSettings) -> None:
    """Sign `app`'s session cookies with the configured secret, or one made now."""
    secret = settings.cookie_signing_key.get_secret_value() if settings.cookie_signing_key else None
    app.secret_key = secret or secrets.token_urlsafe(32)
    app.config.update(SESSION_COOKIE_NAME=COOKIE, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME)


def session_caller(ring: KeyRing) -> Caller | None:
    """Who a read request's session cookie was signed in as (None: no cookie, not a read, or a revoked key)."""
    if request.method not in READ_METHODS or COOKIE not in request.cookies:
        return None  # the session is not even opened: API answers stay free of `Vary: Cookie`
    stored = session.get(_KEY)
    return ring.identify_stored(stored) if isinstance(stored, str) else None


def sign_in(ring: KeyRing, key: str) -> Caller | None:
    """Keep `key`'s hash in the session when the key is valid; the caller, or None (session cleared)."""
    session.clear()
    who = ring.identify(key) if key else None
    if who is not None:
        session[_KEY] = hash_key(key)
        session.permanent = True
    return who


def sign_out() -> None:
    """Forget the session's key."""
    session.clear()
