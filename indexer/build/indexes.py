"""A build's new indices: created for loading (no refreshes, no replicas), finished for serving."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from indexer.core.es import engine_errors

LOAD_SETTINGS = {"index": {"refresh_interval": "-1", "auto_expand_replicas": "false",
                           "number_of_replicas": 0}}
"""During the load: no refreshes, no replicas (the alias migration recipe)."""
LIVE_SETTINGS = {"index": {"refresh_interval": None, "auto_expand_replicas": "0-1"}}


def create_index(es: Elasticsearch, name: str, body: dict[str, Any]) -> None:
    """Create `name` from a mappings file's body, with the load settings."""
    settings = dict(body.get("settings", {}))
    settings.pop("auto_expand_replicas", None)
    settings.update(LOAD_SETTINGS)
    with engine_errors(f"creating index {name}"):
        es.indices.create(index=name, settings=settings, mappings=body["mappings"])


def finish_index(es: Elasticsearch, name: str) -> None:
    """Give a loaded index its live settings back, and make everything written searchable."""
    with engine_errors(f"finishing index {name}"):
        es.indices.put_settings(index=name, settings=LIVE_SETTINGS)
        es.indices.refresh(index=name)
