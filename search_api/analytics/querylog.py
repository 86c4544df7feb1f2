"""The query log's writer: a bounded queue drained by one thread into daily Elasticsearch indices.

A search never waits on its log record: `record` puts it on a bounded queue or, when the queue is
full, drops it and counts it. One thread per process (started on the first record, so a forked
gunicorn worker starts its own) writes batches with `bulk_append`; what Elasticsearch refuses or
cannot take (down, over capacity) is dropped and counted too. `/healthz` reports the counters, so
a lossy log is visible instead of silently thin.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch

from indexer.index_format import IndexerError, bulk_append, mappings
from search_api.core import daily
from search_api.core.settings import ApiSettings

log = logging.getLogger(__name__)

IDLE_WAIT_S = 0.5
"""How long the writer waits for a first record before checking whether it should stop."""


class QueryLog:
    """Asynchronous, bounded, counted: see the module docstring."""

    def __init__(self, settings: ApiSettings, es: Callable[[], Elasticsearch]) -> None:
        """`es` gives the process's client when the writer first needs it (after a fork)."""
        self.settings = settings
        self._es = es
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=settings.query_log_queue)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._idle = threading.Condition(self._lock)
        self._busy = 0
        self._template_ready = False
        self.written = 0
        self.dropped = 0

    def record(self, doc: dict[str, Any]) -> None:
        """Queue one record (its `ts` an ISO string, `query_id` its id); never blocks."""
        self._start()
        try:
            self._queue.put_nowait(doc)
        except queue.Full:
            with self._lock:
                self.dropped += 1

    def stats(self) -> dict[str, int]:
        """Counters for `/healthz`: records waiting, written and dropped by this process."""
        with self._lock:
            return {"queued": self._queue.qsize(), "written": self.written, "dropped": self.dropped}

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued record was written or dropped (tests, shutdown); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._queue.empty() and not self._busy, timeout=timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (within `timeout`), then stop the thread."""
        if self._thread is not None:
            self.flush(timeout)
            self._stop.set()
            self._thread.join(timeout)

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="query-log", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=IDLE_WAIT_S)
            except queue.Empty:
                continue
            batch = [first]
            with self._lock:
                self._busy += 1
            while len(batch) < self.settings.query_log_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            written = self._write(batch)
            with self._idle:
                self.written += written
                self.dropped += len(batch) - written
                self._busy -= 1
                self._idle.notify_all()

    def _write(self, batch: list[dict[str, Any]]) -> int:
        """Records Elasticsearch acknowledged (the rest are counted as dropped by the caller)."""
        alias = self.settings.queries_alias
        try:
            es = self._es()
            if not self._template_ready:
                daily.ensure_template(es, alias, mappings.load(self.settings.mappings_dir, "queries"), "query log")
                self._template_ready = True
            docs = [(daily.day_index(alias, _day(doc["ts"])), doc) for doc in batch]
            report = bulk_append(es, docs, what="writing the query log", ids=[d["query_id"] for d in batch])
        except IndexerError as exc:
            log.warning("query log: %d records dropped: %s", len(batch), exc)
            return 0
        except Exception:  # the writer thread must outlive any one bad batch
            log.exception("query log: %d records dropped", len(batch))
            return 0
        if report.failures:
            log.warning("query log: Elasticsearch refused %d of %d records", len(report.failures), len(batch))
        return report.written


def _day(ts: str) -> Any:
    return datetime.fromisoformat(ts).astimezone(UTC).date()
