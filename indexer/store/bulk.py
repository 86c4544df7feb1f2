"""Bulk writes whose per-item failures are data, not exceptions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import Elasticsearch, helpers

from indexer.core.es import engine_errors, error_reason

BULK_RETRIES = 5
"""429 answers retried per chunk, with exponential backoff starting at BULK_BACKOFF_S."""
BULK_BACKOFF_S = 1.0


@dataclass(frozen=True)
class BulkFailure:
    """One document Elasticsearch refused."""

    id: str
    status: int
    reason: str


@dataclass
class BulkReport:
    """What one bulk stream wrote; the caller decides whether failures block a swap."""

    written: int = 0
    failures: list[BulkFailure] = field(default_factory=list)

    def merge(self, other: BulkReport) -> None:
        """Add another stream's counts."""
        self.written += other.written
        self.failures.extend(other.failures)


def _reason(info: dict[str, Any]) -> str:
    return error_reason(info.get("error") or f"status {info.get('status')}")


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


def _stream(es: Elasticsearch, actions: Iterable[dict[str, Any]], what: str, chunk_size: int) -> BulkReport:
    report = BulkReport()
    with engine_errors(what):
        for ok, item in helpers.streaming_bulk(
            es, actions, chunk_size=chunk_size, max_chunk_bytes=20 * 1024 * 1024,
            max_retries=BULK_RETRIES, initial_backoff=BULK_BACKOFF_S, raise_on_error=False,
        ):
            op, info = next(iter(item.items()))
            if ok or (op == "delete" and info.get("status") == 404):
                report.written += 1
            else:
                report.failures.append(BulkFailure(str(info.get("_id")), int(info.get("status", 0)),
                                                   _reason(info)))
    return report
