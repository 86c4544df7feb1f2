"""Bulk writes whose per-item failures are data, not exceptions.

Every bulk write of the project goes through `helpers.streaming_bulk` here: product builds and
live changes (`bulk_write`, `bulk_delete`) and the read side's viewing events (`bulk_append`,
exported by `index_format`). A refused item becomes a `BulkFailure` whose reason is written by
`core.es.error_reason`, the same formatter as a refused request.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import Elasticsearch, helpers

from indexer.core.es import engine_errors, error_reason

BULK_RETRIES = 5
"""429 answers retried per chunk, with exponential backoff starting at BULK_BACKOFF_S."""
BULK_BACKOFF_S = 1.0
RETRY_ITEM_STATUSES = (429,)
"""Item answers worth sending again: the node's write queue was full. (Whole requests answered
429/502/503/504 are retried by the client itself, see `core.es.make_client`.)"""
MAX_CHUNK_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class BulkFailure:
    """One document Elasticsearch refused."""

    id: str
    status: int
    reason: str
    position: int | None = None
    """Index of the document in the caller's sequence; only `bulk_append` knows it."""


@dataclass
class BulkReport:
    """What one bulk stream wrote; the caller decides whether failures block a swap."""

    written: int = 0
    failures: list[BulkFailure] = field(default_factory=list)

    def merge(self, other: BulkReport) -> None:
        """Add another stream's counts."""
        self.written += other.written
        self.failures.extend(other.failures)


def bulk_write(es: Elasticsearch, index: str, docs: Iterable[tuple[str, dict[str, Any]]], *,
               chunk_size: int = 500) -> BulkReport:
    """Index (id, document) pairs into `index`.

    Args:
        es: client.
        index: concrete index name (never an alias during builds).
        docs: (document id, source) pairs; consumed lazily.
        chunk_size: documents per bulk request.

    Raises:
        EngineError: Elasticsearch is unreachable or refuses the whole request.

    """
    actions = ({"_op_type": "index", "_index": index, "_id": doc_id, "_source": source}
               for doc_id, source in docs)
    return _stream(es, actions, f"bulk indexing into {index}", chunk_size)


def bulk_delete(es: Elasticsearch, index: str, ids: Iterable[str], *, chunk_size: int = 1000) -> BulkReport:
    """Delete documents from `index` outright (a build's own index: no tombstones needed there).

    An id that is already gone counts as deleted.

    Raises:
        EngineError: Elasticsearch is unreachable or refuses the whole request.

    """
    actions = ({"_op_type": "delete", "_index": index, "_id": doc_id} for doc_id in ids)
    return _stream(es, actions, f"deleting from {index}", chunk_size)


def bulk_append(es: Elasticsearch, docs: Sequence[tuple[str, dict[str, Any]]], *, what: str,
                refresh: bool | str = False, retries: int = BULK_RETRIES,
                backoff_s: float = BULK_BACKOFF_S, ids: Sequence[str] | None = None) -> BulkReport:
    """Create (index, document) pairs with generated ids (or `ids`); every failure carries its position in `docs`.

    Append-only data (viewing events) sent as one request per attempt. The helper's own retry
    answers retried items after all the others, which loses their position, so items answered
    429 are retried here instead: sent again in order after `backoff_s · 2^attempt`, at most
    `retries` times, then reported like any other refusal. Each document is either counted in
    `written` (Elasticsearch acknowledged it) or listed in `failures`, never both.

    Args:
        es: client.
        docs: (index name, source) pairs.
        what: what is being written, for the error message.
        refresh: False, True or "wait_for", passed to every request.
        retries: attempts after the first for items answered 429.
        backoff_s: the first wait before such a retry; doubled each time.
        ids: document ids, one per doc (a repeated id is a 409 failure: created once, never overwritten).

    Raises:
        EngineError: Elasticsearch is unreachable or refuses a whole request.

    """
    report = BulkReport()
    pending = list(range(len(docs)))
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff_s * 2 ** (attempt - 1))
        actions = ({"_op_type": "create", "_index": docs[i][0], "_source": docs[i][1],
                    **({"_id": ids[i]} if ids is not None else {})} for i in pending)
        retry: list[int] = []
        with engine_errors(what):
            results = _results(es, actions, chunk_size=max(1, len(pending)), max_retries=0, refresh=refresh)
            for i, (ok, info) in zip(pending, results, strict=True):
                if ok:
                    report.written += 1
                elif info.get("status") in RETRY_ITEM_STATUSES and attempt < retries:
                    retry.append(i)
                else:
                    report.failures.append(_failure(info, i))
        if not retry:
            break
        pending = retry
    report.failures.sort(key=lambda f: f.position if f.position is not None else -1)
    return report


def _stream(es: Elasticsearch, actions: Iterable[dict[str, Any]], what: str, chunk_size: int) -> BulkReport:
    report = BulkReport()
    with engine_errors(what):
        for ok, info in _results(es, actions, chunk_size=chunk_size, max_retries=BULK_RETRIES):
            if ok:
                report.written += 1
            else:
                report.failures.append(_failure(info))
    return report


def _results(es: Elasticsearch, actions: Iterable[dict[str, Any]], *, chunk_size: int, max_retries: int,
             **params: Any) -> Iterator[tuple[bool, dict[str, Any]]]:
    """(done, item answer) per action; in the actions' order when `max_retries` is 0.

    A delete of a document that is already gone is done. `params` go to every bulk request.
    """
    for ok, item in helpers.streaming_bulk(
        es, actions, chunk_size=chunk_size, max_chunk_bytes=MAX_CHUNK_BYTES, max_retries=max_retries,
        initial_backoff=BULK_BACKOFF_S, retry_on_status=RETRY_ITEM_STATUSES, raise_on_error=False, **params,
    ):
        op, info = next(iter(item.items()))
        yield ok or (op == "delete" and info.get("status") == 404), info


def _failure(info: dict[str, Any], position: int | None = None) -> BulkFailure:
    reason = error_reason(info.get("error") or f"status {info.get('status')}")
    return BulkFailure(str(info.get("_id")), int(info.get("status", 0)), reason, position)
