"""The indexer's own bookkeeping in Elasticsearch: the `<prefix>-state` index.

Locks, the change sequence and build records live beside the data they protect, so every
indexer process on every machine sees the same ones, and compare-and-set (`if_seq_no` /
`if_primary_term`) gives atomic updates with server-core features only (no scripts).
"""

from __future__ import annotations

from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from indexer.core.config import Settings
from indexer.core.es import engine_errors, ensure_index

STATE_MAPPINGS: dict[str, Any] = {
    "dynamic": False,  # records keep any field in _source; only these are searchable
    "properties": {
        "kind": {"type": "keyword"},
        "stamp": {"type": "keyword"},
        "state": {"type": "keyword"},
        "updated": {"type": "date"},
    },
}


def state_index(settings: Settings) -> str:
    """The state index of this prefix."""
    return f"{settings.prefix}-state"


def ensure_state_index(es: Elasticsearch, settings: Settings) -> str:
    """Create the state index if missing (idempotent, race-safe); returns its name."""
    name = state_index(settings)
    ensure_index(es, name, STATE_MAPPINGS)
    return name


class Versioned:
    """A state document and the (seq_no, primary_term) it was read at, for compare-and-set."""

    def __init__(self, doc_id: str, source: dict[str, Any] | None, seq_no: int | None,
                 primary_term: int | None) -> None:
        """Use `read` rather than this."""
        self.id = doc_id
        self.source = source
        self.seq_no = seq_no
        self.primary_term = primary_term

    @property
    def exists(self) -> bool:
        """Whether the document existed when read."""
        return self.source is not None


def read(es: Elasticsearch, settings: Settings, doc_id: str) -> Versioned:
    """Read one state document (absent → `exists` is False)."""
    index = ensure_state_index(es, settings)
    with engine_errors(f"reading {index}/{doc_id}"):
        try:
            got = es.get(index=index, id=doc_id)
        except NotFoundError:
            return Versioned(doc_id, None, None, None)
    return Versioned(doc_id, got["_source"], got["_seq_no"], got["_primary_term"])


def write_if(es: Elasticsearch, settings: Settings, current: Versioned, source: dict[str, Any]) -> bool:
    """Replace (or create) `current.id` only if nobody changed it since `current` was read."""
    index = state_index(settings)
    with engine_errors(f"writing {index}/{current.id}"):
        try:
            if current.exists:
                es.index(index=index, id=current.id, document=source, if_seq_no=current.seq_no,
                         if_primary_term=current.primary_term, refresh=True)
            else:
                es.index(index=index, id=current.id, document=source, op_type="create", refresh=True)
        except ConflictError:
            return False
    return True


def put(es: Elasticsearch, settings: Settings, doc_id: str, source: dict[str, Any]) -> None:
    """Write a document unconditionally (records owned by one build)."""
    index = ensure_state_index(es, settings)
    with engine_errors(f"writing {index}/{doc_id}"):
        es.index(index=index, id=doc_id, document=source, refresh=True)


def delete_if(es: Elasticsearch, settings: Settings, current: Versioned) -> bool:
    """Delete `current.id` only if unchanged since read."""
    index = state_index(settings)
    with engine_errors(f"deleting {index}/{current.id}"):
        try:
            es.delete(index=index, id=current.id, if_seq_no=current.seq_no,
                      if_primary_term=current.primary_term, refresh=True)
        except (ConflictError, NotFoundError):
            return False
    return True


def search(es: Elasticsearch, settings: Settings, kind: str, size: int = 1000) -> list[dict[str, Any]]:
    """All documents of one kind (build records), newest stamp first."""
    index = ensure_state_index(es, settings)
    with engine_errors(f"listing {kind} in {index}"):
        hits = es.search(index=index, size=size, query={"term": {"kind": kind}},
                         sort=[{"stamp": "desc"}])["hits"]["hits"]
    return [h["_source"] for h in hits]
