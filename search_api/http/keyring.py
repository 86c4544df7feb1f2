"""The keys the server accepts: the keys file, re-read when it changes, plus the legacy key.

Rotation needs no restart: at most once a second a request stats the file, and a changed
signature (mtime, size, inode) re-reads it. A file that is broken at start stops the server
(`ConfigError`); one broken later keeps its valid lines and logs the others: a revoked key must
not live on because an edit elsewhere in the file went wrong, and one bad line must not lock
every other key out. A missing file means no file keys (fail closed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from indexer.index_format import ConfigError
from search_api.core import files
from search_api.core.credentials import ADMIN, Caller, StoredKey, digest_of, match, match_digest
from search_api.core.files import Signature
from search_api.http import keyfile

log = logging.getLogger(__name__)
LEGACY_ID = "STORESEARCH_API_KEY"
"""The caller id of the legacy single key (every scope)."""



class KeyRing:
    """Configured keys, matched in constant time; thread-safe."""

    def __init__(self, path: Path | None, legacy_hash: str | None, *, clock: Callable[[], float] = time.monotonic,
                 check_every: float = 1.0) -> None:
        """Load the file now.

        Raises:
            ConfigError: the keys file is set but unreadable, missing or has an invalid line.

        """
        self.path, self.clock, self.check_every = path, clock, check_every
        legacy = Caller(LEGACY_ID, frozenset({ADMIN}))
        self._legacy = (StoredKey(legacy, digest_of(legacy_hash)),) if legacy_hash else ()
        self._lock = threading.Lock()
        self._signature: Signature = None
        self._file_keys: tuple[StoredKey, ...] = ()
        self._checked = clock()
        if path is not None:
            if not path.is_file():
                raise ConfigError(f"STORESEARCH_API_KEYS_FILE: no such file {path} "
                                  "(create it with `search-api keys add`)")
            self._signature = files.signature(path)
            self._file_keys = tuple(entry.stored() for entry in keyfile.read(path))

    @property
    def configured(self) -> bool:
        """Whether any key could be accepted at all."""
        return bool(self._legacy or self._current())

    def identify(self, presented: str) -> Caller | None:
        """The caller a presented key belongs to; None for an unknown key."""
        return match(presented, self._legacy + self._current())

    def identify_stored(self, stored: str) -> Caller | None:
        """The caller whose key has this stored hash (`sha256:<hex>`); None if unknown or malformed."""
        try:
            digest = digest_of(stored)
        except ValueError:
            return None
        return match_digest(digest, self._legacy + self._current())

    def _current(self) -> tuple[StoredKey, ...]:
        """The file's keys, re-read if the file changed (checked at most every `check_every` s)."""
        if self.path is None or self.clock() - self._checked < self.check_every:
            return self._file_keys
        with self._lock:
            now = self.clock()
            if now - self._checked >= self.check_every:
                self._checked = now
                self._reload(self.path)
        return self._file_keys

    def _reload(self, path: Path) -> None:
        signature = files.signature(path)
        if signature == self._signature:
            return
        self._signature = signature
        if signature is None:
            log.error("keys file %s is gone: no file key is accepted until it is back", path)
            self._file_keys = ()
            return
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            log.error("cannot read keys file %s: %s; no file key is accepted until it is fixed", path, exc)
            self._file_keys = ()
            return
        entries, problems = keyfile.parse(text, str(path))
        for problem in problems:
            log.error("keys file line ignored: %s", problem)
        self._file_keys = tuple(entry.stored() for entry in entries)
        log.info("keys file %s re-read: %d keys", path, len(entries))

