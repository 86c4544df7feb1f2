"""The API's vector replica: the FAISS snapshot of the live version, kept current.

The alias is re-read at most every `alias_check_seconds`; when it moves, the new snapshot is
loaded beside the old one and swapped in with one reference assignment, so requests in flight
finish on the version they started with. A sync thread then follows the live version's change
log every `sync_seconds` (`seq` above the snapshot's: upserts replace vectors, tombstones and
vector-less documents remove them), so a change is in the semantic leg within about one
interval of being written. `status()` reports the lag for /healthz.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
from elasticsearch import Elasticsearch

from indexer.index_format import IndexerError, VectorIndex, alias_target, changes_since
from search_api.core import metrics
from search_api.core.settings import ApiSettings
from search_api.retrieval.knn import EsKnn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded:
    """One consistent view: the concrete index and its vectors (None if the snapshot failed)."""

    index: str
    vectors: VectorIndex | EsKnn | None
    error: str | None = None

    @property
    def built_by(self) -> str | None:
        """The model of the FAISS snapshot's vectors (None: no snapshot, or kNN, whose index does not say)."""
        return None if self.vectors is None or isinstance(self.vectors, EsKnn) else self.vectors.manifest.model

    @property
    def backend(self) -> str:
        """Which vector backend answers the semantic leg of this version."""
        return "elasticsearch" if isinstance(self.vectors, EsKnn) else "faiss"


class VectorReplica:
    """Follows the products alias and keeps the matching snapshot loaded."""

    def __init__(self, settings: ApiSettings, es: Elasticsearch) -> None:
        """Nothing is read until the first `current()`."""
        self._settings = settings
        self._es = es
        self._loaded: Loaded | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._synced_at: float | None = None  # time.time() of the last successful sync
        self._sync_error: str | None = None
        self.applied = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Run `sync` every `sync_seconds` in a daemon thread (no-op if the interval is 0)."""
        if self._settings.sync_seconds <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._follow, daemon=True, name="replica-sync")
        self._thread.start()

    def stop(self) -> None:
        """Stop the sync thread."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def rebind(self, es: Elasticsearch) -> None:
        """Read through `es` from now on: a forked worker's own client, never its master's.

        Raises:
            RuntimeError: the sync thread runs (it would keep reading through the old client).

        """
        if self._thread is not None:
            raise RuntimeError("rebind a replica before its sync thread starts")
        self._es = es

    def _follow(self) -> None:
        while not self._stop.wait(self._settings.sync_seconds):
            try:
                self.sync()
            except IndexerError as exc:  # keep following; status() reports the error
                log.warning("replica sync failed: %s", exc)
            except Exception:
                log.exception("replica sync failed")

    def sync(self) -> int:
        """Apply the live version's changes since the loaded snapshot; returns how many."""
        with self._sync_lock:
            try:
                live = self.current()
                if live is None or live.vectors is None:
                    return 0
                vectors = live.vectors
                if isinstance(vectors, EsKnn):
                    return 0
                upserts: dict[str, np.ndarray] = {}
                removals: set[str] = set()
                last = vectors.seq
                for change in changes_since(self._es, live.index, vectors.seq):
                    last = max(last, change.seq)
                    if change.vector is None or change.tombstone:
                        removals.add(change.id)
                        upserts.pop(change.id, None)
                    else:
                        upserts[change.id] = change.vector
                        removals.discard(change.id)
                if last > vectors.seq:
                    vectors.apply(upserts, removals, last)
                    self.applied += len(upserts) + len(removals)
            except IndexerError as exc:
                self._sync_error = str(exc)
                metrics.replica_sync_failures.inc()
                raise
            self._synced_at, self._sync_error = time.time(), None
            metrics.replica_synced(self._settings.products_alias, vectors.seq, len(upserts) + len(removals),
                                   self._synced_at)
            return len(upserts) + len(removals)

    def status(self) -> dict[str, object]:
        """Version, sequence and lag of the replica, for /healthz."""
        live = self._loaded
        vectors = None if live is None or isinstance(live.vectors, EsKnn) else live.vectors
        now = time.time()
        return {
            "backend": "faiss",
            "version": live.index if live else None,
            "vectors": vectors.count if vectors else None,
            "seq": vectors.seq if vectors else None,
            "sync_seconds": self._settings.sync_seconds,
            "last_sync_s_ago": round(now - self._synced_at, 2) if self._synced_at else None,
            "changes_applied": self.applied,
            "sync_error": self._sync_error,
        }

    def current(self) -> Loaded | None:
        """The live version (None before any build), re-checking the alias when due.

        Once a version is loaded, an alias check never holds a search up: while one request
        checks, the others serve the loaded version, and a failed check (Elasticsearch down) is
        not retried before the next interval, so an outage costs no search an extra round trip.

        Raises:
            EngineError: the alias could not be read and nothing is loaded yet.

        """
        loaded = self._loaded
        if loaded and time.monotonic() - self._checked_at < self._settings.alias_check_seconds:
            return loaded
        if not self._lock.acquire(blocking=loaded is None):
            return loaded  # another request is checking
        try:
            if self._loaded and time.monotonic() - self._checked_at < self._settings.alias_check_seconds:
                return self._loaded
            try:
                target = alias_target(self._es, self._settings.products_alias)
            except IndexerError:
                if self._loaded is None:
                    raise
                self._checked_at = time.monotonic()
                log.warning("alias check failed; serving %s", self._loaded.index, exc_info=True)
                return self._loaded
            self._checked_at = time.monotonic()
            previous = self._loaded
            if target is None:
                self._loaded = None
            elif self._loaded is None or self._loaded.index != target:
                self._loaded = self._load(target)
            if self._loaded is not previous:
                self._swapped(previous)
            return self._loaded
        finally:
            self._lock.release()

    def _swapped(self, previous: Loaded | None) -> None:
        """Tell the metrics which version is served now, and the sequence its snapshot starts at."""
        loaded = self._loaded
        metrics.replica_serves(loaded.index if loaded else None, previous.index if previous else None)
        if loaded is not None and loaded.vectors is not None and not isinstance(loaded.vectors, EsKnn):
            metrics.replica_seq.labels(self._settings.products_alias).set(loaded.vectors.seq)

    def _load(self, index: str) -> Loaded:
        directory = self._settings.vectors_dir / index
        try:
            vectors = VectorIndex.load(directory)
        except IndexerError as exc:
            log.error("vector snapshot for %s unavailable: %s", index, exc)
            return Loaded(index, None, str(exc))
        log.info("loaded vector snapshot %s (%d vectors)", index, vectors.count)
        return Loaded(index, vectors)


class KnnReplica(VectorReplica):
    """The elasticsearch backend's stand-in for the replica: it follows the alias, loads nothing.

    Both legs of a search still read one concrete index version (the alias is resolved here, as
    for FAISS), but the vectors are the index's own, so there is no snapshot and no sync.
    """

    def start(self) -> None:
        """Nothing to follow: the index is its own vector store."""

    def sync(self) -> int:
        """Nothing to apply: upserts and deletes are in the kNN leg once Elasticsearch refreshed them."""
        return 0

    def status(self) -> dict[str, object]:
        """The version kNN searches, for /healthz."""
        live = self._loaded
        return {"backend": "elasticsearch", "version": live.index if live else None,
                "knn_candidates_factor": self._settings.knn_candidates_factor}

    def _swapped(self, previous: Loaded | None) -> None:
        loaded = self._loaded
        metrics.replica_serves(loaded.index if loaded else None, previous.index if previous else None)

    def _load(self, index: str) -> Loaded:
        s = self._settings
        oversample = s.knn_rescore_oversample if s.knn_index == "int8_hnsw" else 0.0
        return Loaded(index, EsKnn(lambda: self._es, index, candidates_factor=s.knn_candidates_factor,
                                   rescore_oversample=oversample))
