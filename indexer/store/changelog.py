"""Reading the change log: the documents of an index written after a given sequence number.

Every product document carries the `seq` of the write that produced it, so "what changed since
N" is a range query sorted by `seq`. Catch-up replicas read it to follow upserts and tombstones;
a full build replays it from the old live version onto the new one before the swap, so
changes made during the build are not lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch

from indexer.core.es import engine_errors
from indexer.store.bulk import BulkReport, bulk_write

PAGE = 1000


@dataclass(frozen=True)
class Change:
    """One document as it is now: its vector (None: none, e.g. a tombstone) and, if asked, its source."""

    id: str
    seq: int
    vector: np.ndarray | None
    tombstone: bool
    source: dict[str, Any] | None = None


def changes_since(es: Elasticsearch, index: str, since: int, *,
                  with_source: bool = False) -> Iterator[Change]:
    """Documents with `seq > since`, in sequence order.

    Raises:
        EngineError: Elasticsearch failed.

    """
    after: list[Any] | None = None
    while True:
        body: dict[str, Any] = {
            "query": {"range": {"seq": {"gt": since}}},
            "sort": [{"seq": "asc"}, {"id": "asc"}],
            "docvalue_fields": ["id", "seq", "tombstone", "embedding"],
            "size": PAGE,
            "track_total_hits": False,
        }
        if not with_source:
            body["stored_fields"] = "_none_"
        if after:
            body["search_after"] = after
        with engine_errors(f"reading changes of {index} after seq {since}"):
            hits = es.search(index=index, **body)["hits"]["hits"]
        for hit in hits:
            fields = hit.get("fields", {})
            vector = fields.get("embedding")
            yield Change(
                id=fields["id"][0], seq=int(fields["seq"][0]),
                vector=np.asarray(vector[0] if isinstance(vector[0], list) else vector, dtype=np.float32)
                if vector else None,
                tombstone=bool(fields.get("tombstone", [False])[0]),
                source=hit.get("_source") if with_source else None,
            )
        if len(hits) < PAGE:
            return
        after = hits[-1]["sort"]


def replay(es: Elasticsearch, source_index: str, dest_index: str,
           since: int) -> tuple[list[Change], BulkReport]:
    """Copy every change after `since` from one version to another, vectors included.

    Returns the changes (for the caller's vector snapshot) and what the bulk wrote.
    """
    changes = list(changes_since(es, source_index, since, with_source=True))
    docs = []
    for change in changes:
        doc = dict(change.source or {})
        if change.vector is not None:
            doc["embedding"] = change.vector.tolist()
        docs.append((change.id, doc))
    report = bulk_write(es, dest_index, docs) if docs else BulkReport()
    return changes, report
