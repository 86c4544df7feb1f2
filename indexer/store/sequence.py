"""The change sequence: a cluster-wide counter stamped on every document write.

Every write (a full build's load, an upsert batch, a delete batch) takes the next number; each
product document carries the number of the write that produced it in `seq`. A replica that has
applied everything up to N asks for `seq > N`. Writers of live changes hold the write lock from
taking a number until their documents are searchable, so numbers become visible in order.
"""

from __future__ import annotations

from elasticsearch import Elasticsearch

from indexer.core.config import Settings
from indexer.core.errors import EngineError
from indexer.store import state

SEQ_DOC = "sequence"
CAS_ATTEMPTS = 50


def next_seq(es: Elasticsearch, settings: Settings) -> int:
    """Take the next sequence number (compare-and-set; safe with concurrent callers).

    Raises:
        EngineError: Elasticsearch failed, or the counter stayed contended.

    """
    for _ in range(CAS_ATTEMPTS):
        current = state.read(es, settings, SEQ_DOC)
        value = int((current.source or {}).get("value", 0)) + 1
        if state.write_if(es, settings, current, {"kind": "sequence", "value": value}):
            return value
    raise EngineError(f"could not take a sequence number after {CAS_ATTEMPTS} attempts")
