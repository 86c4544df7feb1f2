"""Audit runs in Elasticsearch (`<prefix>-audit-runs`): one document a run, cells in its source.

Cells are stored, not indexed (`enabled: false`): runs are listed by their metadata and read
whole, and a 6,000-cell run is a few MB. Server-core mapping only.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from indexer.index_format import engine_errors, ensure_index
from search_api.core.settings import ApiSettings

MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "id": {"type": "keyword"},
        "name": {"type": "text"},
        "created": {"type": "date"},
        "status": {"type": "keyword"},
        "index_versions": {"type": "keyword"},
        "brands": {"type": "keyword"},
        "keywords": {"type": "keyword"},
        "cells": {"type": "object", "enabled": False},
    },
}
LIST_FIELDS = ["id", "name", "created", "status", "error", "top_k", "cell_count", "done", "index_versions",
               "brands", "keywords", "personas", "seconds"]


def runs_index(settings: ApiSettings) -> str:
    """Where this prefix keeps its audit runs."""
    return f"{settings.prefix}-audit-runs"


def save(es: Elasticsearch, settings: ApiSettings, document: dict[str, Any]) -> None:
    """Create or replace a run (the index is created on first use)."""
    index = runs_index(settings)
    ensure_index(es, index, MAPPINGS)
    with engine_errors(f"saving audit {document['id']}"):
        es.index(index=index, id=document["id"], document=document, refresh="wait_for")


def get(es: Elasticsearch, settings: ApiSettings, run_id: str) -> dict[str, Any] | None:
    """A whole run, or None."""
    with engine_errors(f"reading audit {run_id}"):
        try:
            return dict(es.get(index=runs_index(settings), id=run_id)["_source"])
        except NotFoundError:
            return None


def listing(es: Elasticsearch, settings: ApiSettings, size: int = 100) -> list[dict[str, Any]]:
    """The newest runs, without their cells."""
    with engine_errors("listing audits"):
        try:
            hits = es.search(index=runs_index(settings), size=size, _source=LIST_FIELDS,
                             sort=[{"created": "desc"}, {"id": "desc"}])["hits"]["hits"]
        except NotFoundError:
            return []
    return [h["_source"] for h in hits]
