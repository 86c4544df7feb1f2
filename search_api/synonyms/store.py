"""The synonym set one process searches with: the file's rules plus brand-keyword aliases.

Reloaded without a restart or a reindex, in every process on its own (each gunicorn worker keeps
its own store): at most every `check_every` seconds a search stats the file, and a changed
signature (mtime, size, inode) re-reads it; a new live index version re-reads the brand aliases;
`reload()` (`POST /admin/synonyms/reload`) does both at once. A new set is built whole and then
swapped in by reference, so a search sees the old set or the new one, never a mix. A file that
does not parse leaves the set in force as it was (and says why: the log, `status()`, the reload
answer); the request path never raises, and waits for another thread's reload only while a
process has no brand aliases yet: the first searches of a process (an organic search and its
brand zone run at once) would otherwise be expanded with or without them by which thread won.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from indexer.index_format import IndexerError
from search_api.core import files
from search_api.synonyms.expansion import Expansion, SynonymSet, expand
from search_api.synonyms.rules import Rule, SynonymError, read_file

log = logging.getLogger(__name__)

BRAND_RETRY_S = 5.0
"""After a failed brand-alias read (Elasticsearch down), searches go on with the previous aliases
and try again after this long, not on every request."""

BrandReader = Callable[[], tuple[Rule, ...]]



class SynonymStore:
    """File rules + brand aliases, checked cheaply on the request path; thread-safe."""

    def __init__(self, path: Path | None, *, brands: BrandReader | None = None, check_every: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """Read the file now (brand aliases are read by the first search that names a live version).

        `check_every` ≤ 0 turns the file watch off (then only `reload()` re-reads it).

        Raises:
            SynonymError: the file is missing or does not parse (`file:line: reason`).

        """
        self.path, self.check_every, self.clock = path, check_every, clock
        self._brands = brands
        self._lock = threading.Lock()
        self._signature = files.signature(path) if path else None
        self._file_rules: tuple[Rule, ...] = read_file(path) if path else ()
        self._file_error: str | None = None
        self._brand_rules: tuple[Rule, ...] = ()
        self._brand_version: str | None = None
        self._brand_retry_at = 0.0
        self._checked = clock()
        self._set = SynonymSet(self._file_rules)

    def current(self, version: str | None = None) -> SynonymSet:
        """The set in force, after the due checks: the file (throttled) and, for a new live `version`, brand aliases."""
        now = self.clock()
        brands_due = self._brands_due(version, now)
        first_brands = brands_due and self._brand_version is None
        if (self._file_due(now) or brands_due) and self._lock.acquire(blocking=first_brands):
            try:
                self._refresh(version, now)
            finally:
                self._lock.release()
        return self._set

    def expand(self, text: str, version: str | None = None) -> Expansion:
        """`expansion.expand` with the set in force (see `current`); what /search and /suggest call."""
        return expand(text, self.current(version))

    def reload(self) -> dict[str, Any]:
        """Re-read the file and the brand aliases now; returns `status()`.

        Raises:
            SynonymError: the file is bad (`file:line: reason`); the set in force stays as it was.

        """
        with self._lock:
            signature = files.signature(self.path) if self.path else None
            try:
                file_rules = read_file(self.path) if self.path else ()
            except SynonymError as exc:
                self._file_error = str(exc)
                raise
            self._signature, self._file_rules, self._file_error = signature, file_rules, None
            if self._brands is not None:
                self._read_brands(self._brand_version, self.clock())
            self._set = SynonymSet(self._file_rules + self._brand_rules)
        log.info("synonyms reloaded: %d rules", len(self._set))
        return self.status()

    def status(self) -> dict[str, Any]:
        """Rule counts after a due file check, and the reason the file was last refused (if it was)."""
        out: dict[str, Any] = {"rules": len(self.current()), "file": self.path.name if self.path else None,
                               "file_rules": len(self._file_rules), "brand_rules": len(self._brand_rules)}
        if self._file_error:
            out["file_error"] = self._file_error
        return out

    def _file_due(self, now: float) -> bool:
        return self.path is not None and self.check_every > 0 and now - self._checked >= self.check_every

    def _brands_due(self, version: str | None, now: float) -> bool:
        return (self._brands is not None and version is not None and version != self._brand_version
                and now >= self._brand_retry_at)

    def _refresh(self, version: str | None, now: float) -> None:
        """Re-read what is due (under the lock); swap in a new set only when something changed."""
        changed = False
        if self._file_due(now):
            self._checked = now
            changed = self._read_file_if_changed()
        if self._brands_due(version, now):
            changed = self._read_brands(version, now) or changed
        if changed:
            self._set = SynonymSet(self._file_rules + self._brand_rules)

    def _read_file_if_changed(self) -> bool:
        assert self.path is not None
        signature = files.signature(self.path)
        if signature == self._signature:
            return False
        self._signature = signature
        try:
            self._file_rules = read_file(self.path)
        except SynonymError as exc:
            self._file_error = str(exc)
            log.error("synonym file refused, the previous %d file rules stay in force: %s",
                      len(self._file_rules), exc)
            return False
        self._file_error = None
        log.info("synonym file %s re-read: %d rules", self.path, len(self._file_rules))
        return True

    def _read_brands(self, version: str | None, now: float) -> bool:
        assert self._brands is not None
        try:
            self._brand_rules = self._brands()
        except IndexerError as exc:
            self._brand_retry_at = now + BRAND_RETRY_S
            log.warning("brand-keyword aliases not re-read (the previous %d stay): %s", len(self._brand_rules), exc)
            return False
        self._brand_version = version
        return True
