"""Versioned indices behind aliases: naming, lookup and the atomic swap.

Each build writes `<prefix>-products-<stamp>` (and `<prefix>-brand-keywords-<stamp>`); the alias
`<prefix>-products` names the live one. The FAISS snapshot directory carries the same name, so
one pointer (the alias) selects both stores. Old versions stay for rollback.
"""

from __future__ import annotations

from datetime import UTC, datetime

from elasticsearch import Elasticsearch, NotFoundError

from indexer.core.errors import EngineError
from indexer.core.es import engine_errors


def new_stamp(now: datetime | None = None) -> str:
    """A sortable, lower-case version stamp with millisecond resolution."""
    moment = now or datetime.now(UTC)
    return moment.strftime("%Y%m%dt%H%M%S%f")[:-3]


def index_name(alias: str, stamp: str) -> str:
    """The concrete index of `alias` at version `stamp`."""
    return f"{alias}-{stamp}"


def alias_target(es: Elasticsearch, alias: str) -> str | None:
    """The index an alias points at, or None when the alias does not exist yet.

    Raises:
        EngineError: Elasticsearch failed or points the alias at several indices.

    """
    with engine_errors(f"resolving alias {alias}"):
        try:
            found = es.indices.get_alias(name=alias)
        except NotFoundError:
            return None
    names = sorted(found.body)
    if len(names) > 1:
        raise EngineError(f"alias {alias} points at several indices: {names}")
    return names[0] if names else None


def swap_aliases(es: Elasticsearch, targets: dict[str, str]) -> dict[str, str | None]:
    """Point each alias at its new index in one atomic call; returns the previous targets.

    One call for all aliases means products and brand keywords of a version go live together.
    """
    previous = {alias: alias_target(es, alias) for alias in targets}
    actions: list[dict[str, dict[str, str]]] = []
    for alias, new_index in targets.items():
        old = previous[alias]
        if old and old != new_index:
            actions.append({"remove": {"index": old, "alias": alias}})
        actions.append({"add": {"index": new_index, "alias": alias}})
    with engine_errors(f"moving aliases {sorted(targets)}"):
        es.indices.update_aliases(actions=actions)
    return previous


def list_versions(es: Elasticsearch, alias: str) -> list[tuple[str, int, bool]]:
    """(index, doc count, live) for every version of an alias family, newest first."""
    with engine_errors(f"listing versions of {alias}"):
        try:
            rows = es.cat.indices(index=f"{alias}-*", format="json", h="index,docs.count")
        except NotFoundError:
            return []
    live = alias_target(es, alias)
    out = [(str(r["index"]), int(r.get("docs.count") or 0), r["index"] == live) for r in rows.body]
    return sorted(out, reverse=True)
