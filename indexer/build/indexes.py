"""A build's new indices: created for loading (no refreshes, no replicas), finished for serving.

Shard and replica counts come from `Settings.shards`/`Settings.replicas` (STORESEARCH_SHARDS,
STORESEARCH_REPLICAS), so the same mappings serve one node and a cluster.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from indexer.core.es import engine_errors

LOAD_SETTINGS = {"index": {"refresh_interval": "-1", "auto_expand_replicas": "false",
                           "number_of_replicas": 0}}
"""During the load: no refreshes, no replicas (the alias migration recipe)."""


def live_settings(replicas: int | None) -> dict[str, Any]:
    """Serving settings: refreshes back on, and `replicas` copies of each shard (None: auto 0-1)."""
    if replicas is None:
        return {"index": {"refresh_interval": None, "auto_expand_replicas": "0-1"}}
    return {"index": {"refresh_interval": None, "auto_expand_replicas": "false", "number_of_replicas": replicas}}


def create_index(es: Elasticsearch, name: str, body: dict[str, Any], *, shards: int | None = None) -> None:
    """Create `name` from a mappings file's body, with the load settings (and `shards` primaries if given)."""
    settings = dict(body.get("settings", {}))
    settings.pop("auto_expand_replicas", None)
    settings.update(LOAD_SETTINGS)
    if shards is not None:
        settings["number_of_shards"] = shards
    with engine_errors(f"creating index {name}"):
        es.indices.create(index=name, settings=settings, mappings=body["mappings"])


def finish_index(es: Elasticsearch, name: str, replicas: int | None = None) -> None:
    """Give a loaded index its live settings back, and make everything written searchable."""
    with engine_errors(f"finishing index {name}"):
        es.indices.put_settings(index=name, settings=live_settings(replicas))
        es.indices.refresh(index=name)
