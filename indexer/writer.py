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

from indexer.bulk import BulkReport, bulk_write

Docs = list[tuple[str, dict[str, Any]]]


class BulkWriter:
    """Writes each queued chunk of (id, document) as one bulk request, in order."""

    _END = object()

    def __init__(self, es: Elasticsearch, index: str,
                 on_acked: Callable[[int], None] | None = None) -> None:
        """Start the thread; `on_acked(batch)` runs in it once a batch's last chunk is answered."""
        self._queue: queue.Queue[Any] = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self._error: BaseException | None = None
        self._on_acked = on_acked
        self.report = BulkReport()
        self._thread = threading.Thread(target=self._run, args=(es, index), daemon=True, name=f"bulk-{index}")
        self._thread.start()

    def _run(self, es: Elasticsearch, index: str) -> None:
        while (item := self._queue.get()) is not self._END:
            docs, batch, last = item
            try:
                if self._error is None:
                    self.report.merge(bulk_write(es, index, docs, chunk_size=max(1, len(docs))))
                    if last and self._on_acked:
                        self._on_acked(batch)
            except BaseException as exc:  # handed to the producer in put/wait_idle/close
                self._error = exc
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def put(self, docs: Docs, batch: int, last: bool) -> None:
        """Queue one bulk request; `last` marks the final chunk of source batch `batch`."""
        self._raise()
        with self._idle:
            self._pending += 1
        self._queue.put((docs, batch, last))

    def wait_idle(self) -> None:
        """Block until every queued chunk is answered; raise the writer's error if it failed."""
        with self._idle:
            while self._pending and self._error is None:
                self._idle.wait()
        self._raise()

    def close(self) -> BulkReport:
        """Wait for the queue, stop the thread, and return what was written."""
        try:
            self.wait_idle()
        finally:
            self._queue.put(self._END)
            self._thread.join()
        return self.report
