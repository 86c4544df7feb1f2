"""The profile service: fetches a user's events and item vectors, builds (`profile.build`), caches.

Profiles served to searches are built from stored events (or inline history) and cached briefly.

Item vectors come from the FAISS replica (in memory); only products missing there (a snapshot
that has not caught up yet) are read from Elasticsearch doc values, as all of them are with the
elasticsearch vector backend (no replica). A user's cached profile is
dropped when this process accepts events for them, and a profile built within
`REFRESH_GRACE_S` of such a write is not cached at all: Elasticsearch makes new events
searchable only after its refresh interval (1 s), so that profile may still miss them. Other
API processes see new events when their cache entry expires (`profile_ttl_s`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
from elasticsearch import Elasticsearch

from indexer.index_format import VectorIndex, engine_errors
from search_api.core.settings import ApiSettings
from search_api.personal import event_store
from search_api.personal.events import Event
from search_api.personal.profile import EMPTY, ItemInfo, Profile, build

REFRESH_GRACE_S = 1.5
"""The events index refresh interval (1 s) plus margin."""
CACHE_MAX_USERS = 100_000
"""Bound on cached profiles (LRU): a few KB each."""


class ProfileService:
    """Builds and caches profiles; thread-safe."""

    def __init__(self, settings: ApiSettings, es: Elasticsearch,
                 vectors: Callable[[], VectorIndex | None]) -> None:
        """`vectors` returns the live FAISS replica (None when it is not loaded)."""
        self._settings = settings
        self._es = es
        self._vectors = vectors
        self._cache: OrderedDict[str, tuple[float, Profile]] = OrderedDict()
        self._written: dict[str, float] = {}
        self._lock = threading.Lock()
        self._weights = dict(settings.action_weights)

    def invalidate(self, users: Iterable[str]) -> None:
        """New events were accepted for these users: rebuild their profiles on next use."""
        now = time.monotonic()
        with self._lock:
            for user in users:
                self._cache.pop(user, None)
                self._written[user] = now
            if len(self._written) > CACHE_MAX_USERS:  # old write marks no longer matter
                self._written = {u: t for u, t in self._written.items() if now - t < REFRESH_GRACE_S}

    def for_user(self, user_id: str) -> Profile:
        """The user's profile from stored events (cached for `profile_ttl_s`).

        Raises:
            EngineError: Elasticsearch failed.

        """
        started = time.monotonic()
        with self._lock:
            hit = self._cache.get(user_id)
            if hit and hit[0] > started:
                self._cache.move_to_end(user_id)
                return hit[1]
        now = datetime.now(UTC)
        since = now - timedelta(days=self._settings.profile_window_days)
        events, total = event_store.recent(self._es, self._settings, user_id,
                                           limit=self._settings.profile_events, since=since)
        profile = self._build(events, now, total)
        with self._lock:
            fresh = started - self._written.get(user_id, float("-inf")) > REFRESH_GRACE_S
            if fresh and self._settings.profile_ttl_s > 0:
                self._cache[user_id] = (started + self._settings.profile_ttl_s, profile)
                if len(self._cache) > CACHE_MAX_USERS:
                    self._cache.popitem(last=False)
        return profile

    def from_history(self, history: Sequence[Event]) -> Profile:
        """A profile from inline history (newest `profile_events` within the window; not cached).

        Raises:
            EngineError: Elasticsearch failed.

        """
        now = datetime.now(UTC)
        since = now - timedelta(days=self._settings.profile_window_days)
        recent = sorted((e for e in history if e.ts >= since), key=lambda e: e.ts, reverse=True)
        return self._build(recent[:self._settings.profile_events], now, len(recent))

    def _build(self, events: Sequence[Event], now: datetime, total: int) -> Profile:
        if not events:
            return EMPTY
        items = self.items({e.product_id for e in events})
        return build(events, items, now=now, weights=self._weights,
                     half_life_hours=self._settings.profile_half_life_hours,
                     top=self._settings.profile_top, events_in_window=total)

    def items(self, ids: Iterable[str]) -> dict[str, ItemInfo]:
        """Brand, leaf category and vector of the products that exist (visible or not).

        Raises:
            EngineError: Elasticsearch failed.

        """
        unique = sorted(set(ids))
        with engine_errors("reading viewed products"):
            response = self._es.search(
                index=self._settings.products_alias, size=len(unique), stored_fields="_none_",
                docvalue_fields=["id", "brand", "category_leaf", "has_vector"],
                query={"bool": {"filter": [{"ids": {"values": unique}}],
                                "must_not": [{"term": {"tombstone": True}}]}},
                ignore_unavailable=True, allow_no_indices=True)
        vectors = self._vectors()
        found: dict[str, tuple[str | None, str | None, np.ndarray | None]] = {}
        missing: list[str] = []
        for hit in response["hits"]["hits"]:
            f = hit["fields"]
            pid = f["id"][0]
            vector = vectors.vector(pid) if vectors is not None else None
            if vector is None and f.get("has_vector", [False])[0]:
                missing.append(pid)
            found[pid] = (f.get("brand", [None])[0], f.get("category_leaf", [None])[0], vector)
        for pid, vector in self._es_vectors(missing).items():
            brand, category, _ = found[pid]
            found[pid] = (brand, category, vector)
        return {pid: ItemInfo(*value) for pid, value in found.items()}

    def _es_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """Vectors the replica does not have yet, from Elasticsearch doc values."""
        if not ids:
            return {}
        with engine_errors("reading product vectors"):
            response = self._es.search(index=self._settings.products_alias, size=len(ids),
                                       stored_fields="_none_", docvalue_fields=["id", "embedding"],
                                       query={"ids": {"values": ids}})
        out = {}
        for hit in response["hits"]["hits"]:
            f = hit["fields"]
            if f.get("embedding"):
                vector = np.asarray(f["embedding"], dtype=np.float32).reshape(-1)  # doc values nest the one vector
                out[f["id"][0]] = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return out
