"""The API's vector replica: the FAISS snapshot of the version the products alias points at.

The alias is re-read at most every `alias_check_seconds`; when it moves, the new snapshot is
loaded beside the old one and swapped in with one reference assignment, so requests in flight
finish on the version they started with.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from elasticsearch import Elasticsearch

from indexer.config import Settings
from indexer.errors import IndexerError
from indexer.vectors import VectorIndex
from indexer.versions import alias_target

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded:
    """One consistent view: the concrete index and its vectors (None if the snapshot failed)."""

    index: str
    vectors: VectorIndex | None
    error: str | None = None


class VectorReplica:
    """Follows the products alias and keeps the matching snapshot loaded."""

    def __init__(self, settings: Settings, es: Elasticsearch) -> None:
        """Nothing is read until the first `current()`."""
        self._settings = settings
        self._es = es
        self._loaded: Loaded | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()

    def current(self) -> Loaded | None:
        """The live version (None before any build), re-checking the alias when due.

        Raises:
            EngineError: the alias could not be read and nothing is loaded yet.

        """
        now = time.monotonic()
        if now - self._checked_at < self._settings.alias_check_seconds and self._loaded:
            return self._loaded
        with self._lock:
            if time.monotonic() - self._checked_at < self._settings.alias_check_seconds and self._loaded:
                return self._loaded
            try:
                target = alias_target(self._es, self._settings.products_alias)
            except IndexerError:
                if self._loaded is None:
                    raise
                log.warning("alias check failed; serving %s", self._loaded.index, exc_info=True)
                return self._loaded
            self._checked_at = time.monotonic()
            if target is None:
                self._loaded = None
            elif self._loaded is None or self._loaded.index != target:
                self._loaded = self._load(target)
            return self._loaded

    def _load(self, index: str) -> Loaded:
        directory = self._settings.vectors_dir / index
        try:
            vectors = VectorIndex.load(directory)
        except IndexerError as exc:
            log.error("vector snapshot for %s unavailable: %s", index, exc)
            return Loaded(index, None, str(exc))
        log.info("loaded vector snapshot %s (%d vectors)", index, vectors.count)
        return Loaded(index, vectors)
