"""One vocabulary per process, re-read when a new index version goes live.

The request path never waits on another thread's read and never raises: while Elasticsearch is
unreachable it goes on with the previous vocabulary (or the lexicon alone) and tries again after
`RETRY_S`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from indexer.index_format import IndexerError
from search_api.understand.lexicon import lexicon_terms
from search_api.understand.recognise import Understanding, Vocabulary, understand

log = logging.getLogger(__name__)

RETRY_S = 5.0

Reader = Callable[[str], Vocabulary]
"""Reads the vocabulary of one concrete index version (`catalog.read_vocabulary`)."""


class UnderstandStore:
    """The vocabulary of the live version, swapped by reference; thread-safe."""

    def __init__(self, reader: Reader, clock: Callable[[], float] = time.monotonic) -> None:
        """Start with the lexicon alone; the first search naming a version reads its catalog."""
        self._reader, self._clock = reader, clock
        self._lock = threading.Lock()
        self._vocabulary = Vocabulary(lexicon_terms())
        self._version: str | None = None
        self._retry_at = 0.0

    def vocabulary(self, version: str | None) -> Vocabulary:
        """The vocabulary in force, after reading `version`'s catalog if it is new (and no other thread is)."""
        if (version is not None and version != self._version and self._clock() >= self._retry_at
                and self._lock.acquire(blocking=False)):
            try:
                self._vocabulary, self._version = self._reader(version), version
            except IndexerError as exc:
                self._retry_at = self._clock() + RETRY_S
                log.warning("catalog vocabulary of %s not read (the previous one stays): %s", version, exc)
            finally:
                self._lock.release()
        return self._vocabulary

    def understand(self, text: str, version: str | None) -> Understanding:
        """`recognise.understand` with the live version's vocabulary."""
        return understand(text, self.vocabulary(version))
