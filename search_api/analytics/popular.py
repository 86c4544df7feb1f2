"""Popular past queries: what shoppers searched and found something for, for the search box.

One terms aggregation over the query log's window, refreshed at most every `refresh_s` seconds
per process and kept as a sorted list, so a keystroke's lookup is a binary search in memory, never
a request. Zero-result queries are left out (suggesting them would lead shoppers nowhere), and so
are audit cells.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch

from indexer.index_format import IndexerError, engine_errors
from search_api.core.settings import ApiSettings

log = logging.getLogger(__name__)

TOP_QUERIES = 5000
"""Distinct queries kept: the head of the distribution is what suggestions need."""


class PopularQueries:
    """Prefix → past queries with their counts (see the module docstring)."""

    def __init__(self, settings: ApiSettings, es: Callable[[], Elasticsearch], *, days: int = 30,
                 refresh_s: float = 300.0) -> None:
        """`es` gives the process's client when a refresh needs it."""
        self.settings, self._es, self.days, self.refresh_s = settings, es, days, refresh_s
        self._lock = threading.Lock()
        self._keys: list[str] = []
        self._counts: list[int] = []
        self._loaded_at = float("-inf")

    def complete(self, prefix: str, *, size: int) -> list[tuple[str, int]]:
        """Up to `size` past queries starting with the normalised `prefix`, most searched first."""
        self._refresh_if_due()
        keys, counts = self._keys, self._counts  # one consistent pair: a refresh swaps both at once
        start = bisect.bisect_left(keys, prefix)
        end = bisect.bisect_left(keys, prefix + "\uffff", lo=start)
        found = sorted(zip(keys[start:end], counts[start:end], strict=True), key=lambda kv: (-kv[1], kv[0]))
        return found[:size]

    def _refresh_if_due(self) -> None:
        now = time.monotonic()
        if now - self._loaded_at < self.refresh_s or not self._lock.acquire(blocking=False):
            return
        try:
            pairs = sorted(self._top())
            self._keys, self._counts = [k for k, _ in pairs], [c for _, c in pairs]
        except IndexerError as exc:
            log.warning("popular queries: keeping the previous list: %s", exc)
        finally:
            self._loaded_at = now
            self._lock.release()

    def _top(self) -> list[tuple[str, int]]:
        since = (datetime.now(UTC) - timedelta(days=self.days)).isoformat()
        with engine_errors("reading popular queries"):
            response = self._es().search(
                index=self.settings.queries_alias, size=0, ignore_unavailable=True, allow_no_indices=True,
                query={"bool": {"filter": [{"range": {"ts": {"gte": since}}}, {"term": {"origin": "search"}},
                                           {"term": {"zero_result": False}}]}},
                aggs={"q": {"terms": {"field": "q", "size": TOP_QUERIES}}})
        buckets = (response.get("aggregations") or {}).get("q", {}).get("buckets", [])
        return [(b["key"], int(b["doc_count"])) for b in buckets]
