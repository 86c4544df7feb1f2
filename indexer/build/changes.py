"""Incremental changes to the live version: upserts and deletions, between full builds.

Both write straight into the index the products alias points at, under the write lock and one
new sequence number, and return only once the change is searchable; a running search API's
replica then picks it up by polling `seq` (search_api/replica.py). Upserts make their documents
as builds do (`documents_step`), embedding only texts the embedding cache has not seen; deletions
leave tombstones so replicas learn about them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from elasticsearch import Elasticsearch

from indexer.build.documents_step import ProductDocuments
from indexer.catalog import load
from indexer.catalog.models import Reject
from indexer.catalog.readers import check_source
from indexer.core.config import Settings
from indexer.core.errors import BuildError, ConfigError, EngineError
from indexer.core.es import engine_errors
from indexer.embedding.embedder import Embedder
from indexer.format.documents import tombstone_doc
from indexer.store.bulk import BulkFailure, bulk_write
from indexer.store.locks import WRITE_LOCK, WRITE_LOCK_WAIT_S, Lock
from indexer.store.sequence import next_seq
from indexer.store.versions import alias_target

BATCH = 512


@dataclass
class ChangeReport:
    """What an upsert or delete did."""

    index: str
    seq: int
    written: int = 0
    rejects: list[Reject] = field(default_factory=list)
    failures: list[BulkFailure] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    encoded: int = 0
    seconds: float = 0.0


def _live_index(es: Elasticsearch, settings: Settings) -> str:
    index = alias_target(es, settings.products_alias)
    if index is None:
        raise BuildError(f"no live version behind {settings.products_alias}: run `indexer build` first")
    return index



def upsert(settings: Settings, es: Elasticsearch, embedder: Embedder, sources: Iterable[Path], *,
           max_reject_ratio: float = 0.05) -> ChangeReport:
    """Insert or replace products in the live version, vectors included.

    Raises:
        BuildError: no live version, or rejects over `max_reject_ratio` (nothing is written then).
        LockedError: the write lock stayed held.
        EngineError: Elasticsearch failed; documents already acknowledged stay written.

    """
    paths = [Path(p) for p in sources]
    for path in paths:
        check_source(path)
    log = load.RejectLog()
    products = list(load.products(paths, log))  # validate everything before writing anything
    if log.rows and log.ratio > max_reject_ratio:
        raise BuildError(f"{len(log.rejects)} of {log.rows} rows rejected ({log.ratio:.1%} > "
                         f"--max-reject-ratio {max_reject_ratio:.1%}); first: {log.rejects[0].describe()}")
    started = time.perf_counter()
    with ProductDocuments.open(settings, embedder, embeddings=True, analysis=False) as step:
        with Lock(es, settings, WRITE_LOCK, purpose="upsert", wait=WRITE_LOCK_WAIT_S):
            index = _live_index(es, settings)
            seq = next_seq(es, settings)
            report = ChangeReport(index=index, seq=seq, rejects=list(log.rejects))
            now = datetime.now(UTC)
            for batch in load.batched(products, BATCH):
                embedded = step.embed(batch)
                bulk = bulk_write(es, index, step.documents(embedded, step.analyse(batch), now, seq).docs())
                report.written += bulk.written
                report.failures.extend(bulk.failures)
            _refresh(es, index)
        report.encoded = step.cache_misses
    report.seconds = time.perf_counter() - started
    return report


def read_ids(args: Iterable[str]) -> list[str]:
    """Product ids from the command line: literal ids, or files of one id (or JSON object) a line.

    Raises:
        ConfigError: no ids at all.

    """
    import orjson

    ids: list[str] = []
    for arg in args:
        path = Path(arg)
        if not path.is_file():
            ids.append(arg)
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                try:
                    value = orjson.loads(line).get("id")
                except orjson.JSONDecodeError as exc:
                    raise ConfigError(f"{path}: bad JSON line: {exc}") from exc
                if value is None:
                    raise ConfigError(f"{path}: a JSON line without an id: {line[:80]}")
                ids.append(str(value))
            else:
                ids.append(line)
    if not ids:
        raise ConfigError("no product ids given")
    return list(dict.fromkeys(ids))


def delete(settings: Settings, es: Elasticsearch, ids: list[str]) -> ChangeReport:
    """Replace products by tombstones in the live version; unknown ids are reported, not written.

    Raises:
        BuildError: no live version.
        LockedError: the write lock stayed held.
        EngineError: Elasticsearch failed.

    """
    started = time.perf_counter()
    with Lock(es, settings, WRITE_LOCK, purpose="delete", wait=WRITE_LOCK_WAIT_S):
        index = _live_index(es, settings)
        with engine_errors(f"looking up ids in {index}"):
            found = es.mget(index=index, ids=ids, _source=["tombstone"])["docs"]
        present = [d["_id"] for d in found
                   if d.get("found") and not (d.get("_source") or {}).get("tombstone")]
        seq = next_seq(es, settings)
        report = ChangeReport(index=index, seq=seq, not_found=[i for i in ids if i not in set(present)])
        now = datetime.now(UTC)
        bulk = bulk_write(es, index, [(pid, tombstone_doc(pid, now, seq)) for pid in present])
        report.written, report.failures = bulk.written, bulk.failures
        _refresh(es, index)
    report.seconds = time.perf_counter() - started
    return report


def _refresh(es: Elasticsearch, index: str) -> None:
    try:
        with engine_errors(f"refreshing {index}"):
            es.indices.refresh(index=index)
    except EngineError as exc:
        raise EngineError(f"{exc} (the changes are written; they become searchable at the next "
                          "refresh)") from exc
