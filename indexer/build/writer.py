"""The bulk writer: a thread that sends ready documents to Elasticsearch, gated around the model.

A build is CPU-bound on two cores. Torch's two intra-op threads synchronise at every op, so any
other busy thread (Elasticsearch parsing a bulk request, Python analysing documents) stalls
both of them; letting Elasticsearch index *during* a forward pass cost the build ~12% of the
model's rate. So the pipeline is gated instead: the model encodes batch n with Elasticsearch
idle; then the main thread analyses batch n chunk by chunk while this thread streams the
previous chunk (ES works on the other core), and the next forward pass starts only when the
writer is idle again (`wait_idle`). A thread is enough: the two sides overlap while the writer
waits on HTTP, which releases the GIL. (A writer process was measured too: 0.58 of the raw
rate on the 10k sample, worse, because it ran during forward passes.)
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from elasticsearch import Elasticsearch

from indexer.store.bulk import BulkReport, bulk_write

Docs = list[tuple[str, dict[str, Any]]]


class BulkWriter:
    """Writes each queued chunk of (id, document) as one bulk request, from `workers` threads.

    Two workers let Elasticsearch index on both cores when there is nothing to encode (a warm
    rebuild); the gate (`wait_idle`) still keeps it off the cores during forward passes.
    """

    _END = object()

    def __init__(self, es: Elasticsearch, index: str, on_acked: Callable[[int], None] | None = None,
                 workers: int = 1) -> None:
        """Start the threads; `on_acked(batch)` runs once batch and all before it are answered."""
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=4 * workers)
        self._idle = threading.Condition()
        self._pending = 0
        self._error: BaseException | None = None
        self._on_acked = on_acked
        self._open: dict[int, int] = {}  # batch → chunks not yet answered
        self._closed: set[int] = set()  # batches whose last chunk was queued
        self._acked = -1
        self.report = BulkReport()
        self._threads = [threading.Thread(target=self._run, args=(es, index), daemon=True, name=f"bulk-{index}-{i}")
                         for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def _run(self, es: Elasticsearch, index: str) -> None:
        while (item := self._queue.get()) is not self._END:
            docs, batch = item
            try:
                if self._error is None:
                    done = bulk_write(es, index, docs, chunk_size=max(1, len(docs)))
                    with self._idle:
                        self.report.merge(done)
                        self._open[batch] -= 1
                    self._advance()
            except BaseException as exc:  # handed to the producer in put/wait_idle/close
                self._error = exc
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def _advance(self) -> None:
        """Ack every batch, in order, whose chunks are all answered."""
        acked = []
        with self._idle:
            nxt = self._acked + 1
            while nxt in self._closed and self._open.get(nxt) == 0:
                self._closed.discard(nxt)
                del self._open[nxt]
                self._acked = nxt
                acked.append(nxt)
                nxt += 1
        if self._on_acked:
            for batch in acked:
                self._on_acked(batch)

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def skip(self, batch: int) -> None:
        """Mark a batch as already written (a resumed build) so later acks can pass it."""
        with self._idle:
            self._open.setdefault(batch, 0)
            self._closed.add(batch)
        self._advance()

    def put(self, docs: Docs, batch: int, last: bool) -> None:
        """Queue one bulk request; `last` marks the final chunk of source batch `batch`."""
        self._raise()
        with self._idle:
            self._pending += 1
            self._open[batch] = self._open.get(batch, 0) + 1
            if last:
                self._closed.add(batch)
        self._queue.put((docs, batch))

    def wait_idle(self) -> None:
        """Block until every queued chunk is answered; raise the writer's error if it failed."""
        with self._idle:
            while self._pending and self._error is None:
                self._idle.wait()
        self._raise()

    def close(self) -> BulkReport:
        """Wait for the queue, stop the threads, and return what was written."""
        try:
            self.wait_idle()
        finally:
            for _ in self._threads:
                self._queue.put(self._END)
            for thread in self._threads:
                thread.join()
        return self.report
