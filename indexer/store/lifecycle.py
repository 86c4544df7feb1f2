"""What happens to versions after a build: retire, roll back, prune, discard, list.

Deleting is the only irreversible step, so it is narrow: `prune` never touches the live version
or the one before it, and `discard` refuses a version that is or was recently live.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass

from elasticsearch import Elasticsearch

from indexer.core.config import Settings
from indexer.core.errors import BuildError
from indexer.core.es import engine_errors
from indexer.format.vectors import VectorIndex
from indexer.store.changelog import replay
from indexer.store.locks import BUILD_LOCK, WRITE_LOCK, Lock
from indexer.store.records import BuildRecord, all_records, load
from indexer.store.versions import alias_target, swap_aliases

log = logging.getLogger(__name__)

SERVED = ("live", "retired", "rolled back")
"""States of versions that passed verification and can serve again."""


def _delete_version(es: Elasticsearch, settings: Settings, record: BuildRecord) -> None:
    for name in (record.products_index, record.brand_keywords_index, record.suggestions_index):
        if name:
            try:
                with engine_errors(f"deleting {name}"):
                    es.indices.delete(index=name, ignore_unavailable=True)
            except Exception as exc:  # best effort: ES may be the thing that failed
                log.warning("could not delete index %s: %s", name, exc)
    shutil.rmtree(settings.vectors_dir / record.products_index, ignore_errors=True)


def discard_build(es: Elasticsearch, settings: Settings, record: BuildRecord, *, state: str,
                   error: str | None = None) -> None:
    """Delete a build that never went live, and say so in its record."""
    _delete_version(es, settings, record)
    record.state, record.error = state, error
    try:
        record.save(es, settings)
    except Exception as exc:
        log.warning("could not record build %s as %s: %s", record.stamp, state, exc)


def discard(es: Elasticsearch, settings: Settings, stamp: str) -> BuildRecord:
    """Drop an interrupted or failed build (under the build lock, so not one still running).

    Raises:
        BuildError: the build is live or can still serve (use prune for those).
        LockedError: a build is running.

    """
    with Lock(es, settings, BUILD_LOCK, purpose="discard"):
        record = load(es, settings, stamp)
        if record.state in SERVED:
            raise BuildError(f"build {stamp} is {record.state}, not discardable")
        discard_build(es, settings, record, state="discarded", error=record.error)
    return record


def mark_retired(es: Elasticsearch, settings: Settings, index: str | None) -> None:
    """Record that the version behind `index` is no longer live."""
    for record in all_records(es, settings):
        if record.products_index == index and record.state == "live":
            record.state = "retired"
            record.save(es, settings)


def prune(es: Elasticsearch, settings: Settings, *, keep: int) -> list[str]:
    """Delete served versions beyond the newest `keep` ones; never the live or the previous one."""
    live = alias_target(es, settings.products_alias)
    served = [r for r in all_records(es, settings) if r.state in SERVED]
    protected = {live}
    live_record = next((r for r in served if r.products_index == live), None)
    if live_record:
        protected.add(live_record.live_before)
    pruned: list[str] = []
    for record in served[max(keep, 2):]:
        if record.products_index in protected:
            continue
        _delete_version(es, settings, record)
        record.state = "pruned"
        record.save(es, settings)
        pruned.append(record.products_index)
    return pruned


@dataclass(frozen=True)
class Rollback:
    """Where a rollback moved the aliases, and how many live changes it carried over."""

    from_index: str
    to_index: str
    replayed: int


def rollback(es: Elasticsearch, settings: Settings, to: str | None = None) -> Rollback:
    """Point the aliases back at the previous verified version (or version `to`).

    Changes written to the live version since that version was built (upserts, deletes) are
    replayed onto it first, so a rollback undoes a build, not the day's catalog updates.

    Raises:
        BuildError: nothing to roll back to, or its index (or, for FAISS, its snapshot) is gone.
        LockedError: a build or a writer is running.

    """
    with Lock(es, settings, BUILD_LOCK, purpose="rollback"), \
            Lock(es, settings, WRITE_LOCK, purpose="rollback", wait=60.0):
        live = alias_target(es, settings.products_alias)
        records = all_records(es, settings)
        current = next((r for r in records if r.products_index == live), None)
        if to:
            target = load(es, settings, to)
        else:
            older = [r for r in records if r.state in ("retired", "rolled back") and r.products_index != live
                     and (current is None or r.stamp < current.stamp)]
            if not older:
                raise BuildError("no earlier verified version to roll back to")
            target = older[0]
        if target.state not in SERVED or target.products_index == live:
            raise BuildError(f"version {target.stamp} is {target.state}; cannot roll back to it")
        with engine_errors(f"checking {target.products_index}"):
            if not es.indices.exists(index=target.products_index):
                raise BuildError(f"index {target.products_index} no longer exists")
        if settings.vector_backend == "faiss":  # refuse a missing snapshot now (kNN reads the index itself)
            VectorIndex.load(settings.vectors_dir / target.products_index)
        replayed = 0
        if live and current:
            changes, report = replay(es, live, target.products_index, current.seq)
            if report.failures:
                raise BuildError(f"replaying live changes failed for {len(report.failures)} documents")
            replayed = len(changes)
            with engine_errors(f"refreshing {target.products_index}"):
                es.indices.refresh(index=target.products_index)
        aliases = {settings.products_alias: target.products_index}
        if target.brand_keywords_index:
            aliases[settings.brand_keywords_alias] = target.brand_keywords_index
        if target.suggestions_index:
            aliases[settings.suggestions_alias] = target.suggestions_index
        swap_aliases(es, aliases)
        if current:
            current.state = "rolled back"
            current.save(es, settings)
        target.state = "live"
        target.save(es, settings)
    return Rollback(live or "-", target.products_index, replayed)
