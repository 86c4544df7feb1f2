"""API keys as the service keeps them: scopes, and a key's SHA-256 hash instead of the key.

Why SHA-256 and not scrypt/argon2: a slow KDF protects *guessable* secrets (passwords) from
offline guessing. Keys made by `search-api keys add` carry 256 random bits, which no hash speed
makes guessable, while a slow KDF would cost tens of milliseconds of CPU on every keyed request
(times the number of keys, since salted hashes cannot be looked up): a denial-of-service lever on
two cores. A hand-picked key (the legacy `STORESEARCH_API_KEY`) gets no such protection from its
hash; generate keys with the CLI.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

EVENTS_WRITE, PROFILES_READ, AUDITS, ADMIN = "events:write", "profiles:read", "audits", "admin"
ANALYTICS = "analytics"
RULES = "rules"
SCOPES = (EVENTS_WRITE, PROFILES_READ, AUDITS, ANALYTICS, RULES, ADMIN)
"""Every scope a key may hold; `admin` implies all the others."""

HASH = re.compile(r"sha256:([0-9a-f]{64})")
"""How a stored key looks: `sha256:` and the hex digest of the key's UTF-8 bytes."""

KEY_PREFIX = "ssk_"
"""Marks generated keys, so secret scanners and people recognise one in a log or a paste."""


def hash_key(key: str) -> str:
    """The stored form of `key`."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def digest_of(stored: str) -> bytes:
    """The raw digest of a stored hash.

    Raises:
        ValueError: not `sha256:` followed by 64 lowercase hex digits.

    """
    match = HASH.fullmatch(stored)
    if not match:
        raise ValueError("must be sha256: followed by 64 lowercase hex digits")
    return bytes.fromhex(match.group(1))


def new_key() -> str:
    """A fresh key: 256 random bits, URL-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Caller:
    """Who a valid key belongs to and what it may do."""

    id: str
    scopes: frozenset[str]

    def can(self, scope: str) -> bool:
        """Whether this key holds `scope` (directly or through `admin`)."""
        return ADMIN in self.scopes or scope in self.scopes


@dataclass(frozen=True)
class StoredKey:
    """One configured key: its owner's id, its scopes and the digest of the key (never the key)."""

    caller: Caller
    digest: bytes


def match(presented: str, keys: tuple[StoredKey, ...]) -> Caller | None:
    """The caller whose key was presented, comparing every digest in constant time (no early exit)."""
    return match_digest(hashlib.sha256(presented.encode()).digest(), keys)


def match_digest(digest: bytes, keys: tuple[StoredKey, ...]) -> Caller | None:
    """The caller whose key has this SHA-256 digest (a browser session keeps the digest, not the key)."""
    found = None
    for key in keys:
        if hmac.compare_digest(digest, key.digest):
            found = key.caller
    return found
