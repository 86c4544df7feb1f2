"""One vocabulary per process, re-read when a new index version goes live.

The first search reads the live version's vocabulary on its own thread, and searches arriving
meanwhile wait for it, so a process's first answers do not differ by who came first (a server's
warm-up search does it before the process accepts a connection); a later version is read on a background thread
while searches go on with the previous vocabulary (reading a large catalog's brands and colours
takes about a second: too long to hold the first search after a swap). The request path never
raises: while Elasticsearch is unreachable the previous vocabulary (or the lexicon alone) stays
and the read is tried again after `RETRY_S`.
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
        self._reading: threading.Thread | None = None

    def vocabulary(self, version: str | None) -> Vocabulary:
        """The vocabulary in force, after starting a read of `version`'s catalog if it is new."""
        if version is None or version == self._version or self._clock() < self._retry_at:
            return self._vocabulary
        with self._lock:
            if version == self._version or self._reading is not None or self._clock() < self._retry_at:
                return self._vocabulary
            if self._version is None:  # the first read: searches arriving meanwhile wait for it
                self._read(version)
            else:  # searches go on with the previous version's meanwhile
                self._reading = threading.Thread(target=self._read, args=(version,), daemon=True,
                                                 name="understand-vocabulary")
                self._reading.start()
        return self._vocabulary

    def understand(self, text: str, version: str | None) -> Understanding:
        """`recognise.understand` with the live version's vocabulary."""
        return understand(text, self.vocabulary(version))

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a background read in progress (tests, warm-up)."""
        reading = self._reading
        if reading is not None:
            reading.join(timeout)

    def _read(self, version: str) -> None:
        try:
            vocabulary = self._reader(version)
        except IndexerError as exc:
            self._retry_at = self._clock() + RETRY_S
            log.warning("catalog vocabulary of %s not read (the previous one stays): %s", version, exc)
        else:
            self._vocabulary, self._version = vocabulary, version
        finally:
            self._reading = None
