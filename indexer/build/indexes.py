"""A build's new indices: created for loading (no refreshes, no replicas), finished for serving.

Shard and replica counts come from `Settings.shards`/`Settings.replicas` (STORESEARCH_SHARDS,
STORESEARCH_REPLICAS), so the same mappings serve one node and a cluster.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from elasticsearch import Elasticsearch

from indexer.core.es import engine_errors

log = logging.getLogger(__name__)

REPLICA_WAIT_S = 120
"""How long a build waits for the replicas of its finished indices before it swaps anyway."""

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


def await_replicas(es: Elasticsearch, names: Iterable[str], replicas: int | None) -> bool:
    """Wait (bounded) until every copy of `names` is assigned, so a version goes live with its replicas.

    A version swapped in while yellow would lose whatever shard sat only on a node that dies in the
    next seconds. Waiting never fails the build: verification needs only the primaries, and a
    cluster with too few nodes for `replicas` stays yellow for good (a warning says so). Returns
    whether the indices were green; with `replicas` unset (auto-expand 0-1) it waits as well, as a
    multi-node cluster expands to one replica.
    """
    index = ",".join(names)
    if replicas == 0 or not index:
        return True
    with engine_errors(f"waiting for the replicas of {index}"):
        health = es.cluster.health(index=index, wait_for_status="green", timeout=f"{REPLICA_WAIT_S}s")
    if health.get("timed_out") or health.get("status") != "green":
        log.warning("%s not green after %d s (%s unassigned shards): going live with the primaries; with "
                    "STORESEARCH_REPLICAS=%s the cluster needs %s data nodes", index, REPLICA_WAIT_S,
                    health.get("unassigned_shards"), replicas,
                    "more" if replicas is None else f"at least {replicas + 1}")
        return False
    return True
