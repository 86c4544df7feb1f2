"""Each API process's copy of the rule set, refreshed every `rules_refresh_s` without blocking searches.

A search reads `current()`: the loaded `RuleIndex`, never a network call once the first load is
done (except the next search of the process that just changed a rule: it reads them first). When
the copy is older than the refresh interval, the search that notices starts one background
refresh and goes on with the copy it has. A refresh asks Elasticsearch for the set's
fingerprint (count, highest revision: one tiny search) and reads and analyses every rule only
when it changed. A failed refresh keeps the copy and is retried after the interval: rules that
cannot be read never fail a search. Under gunicorn each worker has its own book (a
`Runtime` property dropped at fork), so a change is live in every worker within the interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from elasticsearch import Elasticsearch

from indexer.index_format import IndexerError
from search_api.core.settings import ApiSettings
from search_api.rules import store
from search_api.rules.index import EMPTY, Rule, RuleIndex

log = logging.getLogger(__name__)


class RuleBook:
    """The loaded rule set of one process and its refresh schedule."""

    def __init__(self, settings: ApiSettings, es: Elasticsearch, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """Nothing is read until the first `current()`."""
        self._settings = settings
        self._es = es
        self._clock = clock
        self._index: RuleIndex | None = None
        self._fingerprint: store.Fingerprint | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()
        """Guards the refresh flag (held for an instant)."""
        self._reading = threading.Lock()
        """Held for a whole refresh: two refreshes never overlap, so an older read never replaces a newer one."""
        self._refreshing = False
        self._expired = False

    def current(self) -> RuleIndex:
        """The rule set to apply now (empty until one could be read)."""
        index = self._index
        if index is None or self._expired:
            with self._reading:
                if self._index is None or self._expired:
                    self._expired = not self._refresh()  # a change made here must not wait for the interval
            return self._index or EMPTY
        if self._clock() - self._checked >= self._settings.rules_refresh_s and not self._refreshing:
            with self._lock:
                if self._refreshing:
                    return index
                self._refreshing = True
            threading.Thread(target=self._background, name="rules-refresh", daemon=True).start()
        return index

    def expire(self) -> None:
        """Re-read the rules before the next search (this process just changed one)."""
        self._expired = True

    def _background(self) -> None:
        try:
            with self._reading:
                self._refresh()
        finally:
            self._refreshing = False

    def _refresh(self) -> bool:
        """Reload the rules when their fingerprint changed; keep the copy when Elasticsearch fails (False)."""
        self._checked = self._clock()
        try:
            fingerprint = store.fingerprint(self._es, self._settings)
            if fingerprint == self._fingerprint and self._index is not None:
                return True
            index = RuleIndex(Rule.from_source(src) for src in store.listing(self._es, self._settings))
        except IndexerError as exc:
            log.warning("rules not refreshed (keeping %d): %s", len(self._index or EMPTY), exc)
            self._index = self._index or EMPTY
            return False
        self._index, self._fingerprint = index, fingerprint
        return True
