"""Append-only logs in Elasticsearch: one index per UTC day behind an alias, so retention is cheap.

Viewing events and the query log both live this way. An index template named after the alias
gives every `<alias>-YYYY.MM.DD` index its mapping and puts it behind the alias when a bulk write
first creates it; dropping a day is deleting one index, not a delete-by-query.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from indexer.index_format import engine_errors

DAY_FORMAT = "%Y.%m.%d"
TEMPLATE_PRIORITY = 200
"""Above Elasticsearch's built-in templates (100), so ours wins even for an odd prefix."""


def day_index(alias: str, day: date) -> str:
    """The index holding the documents whose UTC timestamp falls on `day`."""
    return f"{alias}-{day.strftime(DAY_FORMAT)}"


def index_day(alias: str, name: str) -> date | None:
    """The day of a daily index (None for a name that only looks like one)."""
    stem = alias + "-"
    if not name.startswith(stem):
        return None
    try:
        return datetime.strptime(name[len(stem):], DAY_FORMAT).date()
    except ValueError:
        return None


def ensure_template(es: Elasticsearch, alias: str, body: dict[str, Any], what: str) -> None:
    """Install (or refresh) the index template of the daily indices; idempotent.

    Raises:
        EngineError: Elasticsearch refused it.

    """
    with engine_errors(f"installing the {what} index template"):
        es.indices.put_index_template(name=alias, index_patterns=[f"{alias}-*"], priority=TEMPLATE_PRIORITY,
                                      template={**body, "aliases": {alias: {}}})


def drop_template(es: Elasticsearch, alias: str, what: str) -> None:
    """Remove the index template (tests and benchmarks cleaning up after themselves)."""
    with engine_errors(f"deleting the {what} index template"):
        es.options(ignore_status=404).indices.delete_index_template(name=alias)


def drop_older_than(es: Elasticsearch, alias: str, days: int, what: str, *, today: date | None = None,
                    dry_run: bool = False) -> list[str]:
    """Delete daily indices of days before `today - days` (UTC); returns their names, oldest first.

    Raises:
        EngineError: Elasticsearch failed.

    """
    cutoff = (today or datetime.now(UTC).date()) - timedelta(days=days)
    with engine_errors(f"listing {what} indices"):
        found = es.indices.get(index=f"{alias}-*", expand_wildcards="open,closed",
                               allow_no_indices=True, ignore_unavailable=True)
    old = sorted((day, name) for name in found if (day := index_day(alias, name)) and day < cutoff)
    names = [name for _, name in old]
    if not dry_run:
        for start in range(0, len(names), 50):  # keeps the URL short
            with engine_errors(f"dropping {what} indices"):
                es.indices.delete(index=",".join(names[start:start + 50]))
    return names
