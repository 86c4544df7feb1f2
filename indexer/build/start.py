"""How a build begins: a new record and index, or an interrupted build's record to resume.

A new build's products index is a clone of the live version when that can be reused (`reuse`).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from elasticsearch import Elasticsearch

from indexer.build.indexes import LOAD_SETTINGS, create_index
from indexer.build.options import BuildOptions
from indexer.build.reuse import Base, build_fingerprint, clone, load_base, reusable_base
from indexer.catalog.readers import check_source
from indexer.core.config import Settings
from indexer.core.errors import BuildError, IndexerError
from indexer.core.es import engine_errors
from indexer.embedding.embedder import Embedder
from indexer.format import mappings
from indexer.store.records import RESUMABLE, BuildRecord, Source, latest_resumable
from indexer.store.records import load as load_record
from indexer.store.sequence import next_seq
from indexer.store.versions import alias_target, index_name, new_stamp

log = logging.getLogger(__name__)


def start(es: Elasticsearch, settings: Settings, embedder: Embedder,
          options: BuildOptions) -> tuple[BuildRecord, Base | None]:
    """Record a new build and create its products index; the base is the live version it cloned.

    Raises:
        BuildError: no product sources.
        CatalogError: a source is missing or of an unknown format (checked before anything is created).

    """
    if not options.products:
        raise BuildError("no product sources given")
    for path in (*options.products, *options.brand_keywords):  # fail before creating anything
        check_source(Path(path))
    stamp = new_stamp()
    record = BuildRecord(
        stamp=stamp, products_index=index_name(settings.products_alias, stamp),
        brand_keywords_index=(index_name(settings.brand_keywords_alias, stamp)
                              if options.brand_keywords else None),
        products=[Source.of(Path(p)) for p in options.products],
        brand_keywords=[Source.of(Path(p)) for p in options.brand_keywords],
        model=embedder.fingerprint, batch_size=options.batch_size, seq=next_seq(es, settings),
        live_before=alias_target(es, settings.products_alias),
        fingerprint=build_fingerprint(settings, embedder),
        suggestions_index=index_name(settings.suggestions_alias, stamp))
    base = reusable_base(es, settings, embedder, record.fingerprint or "", record.live_before) \
        if options.reuse and options.cache else None
    record.base = base.index if base else None
    record.save(es, settings)  # recorded before the index exists: `indexer discard` finds either
    if base is not None:
        try:
            clone(es, settings, base.index, record.products_index, LOAD_SETTINGS)
        except IndexerError as exc:  # e.g. a source that is not green: write everything instead
            log.warning("cannot start from a clone of %s (%s); writing every document", base.index, exc)
            with contextlib.suppress(Exception):
                es.indices.delete(index=record.products_index, ignore_unavailable=True)
            base, record.base = None, None
            record.save(es, settings)
    if base is None:
        create_index(es, record.products_index, mappings.products(settings, dims=embedder.dims),
                     shards=settings.shards)
    return record, base


def resumable(es: Elasticsearch, settings: Settings, embedder: Embedder,
              stamp: str) -> tuple[BuildRecord, Base | None]:
    """The record (and base) of interrupted build `stamp` ("latest": the last one).

    Raises:
        BuildError: the build is not interrupted, or its model, sources or index changed.

    """
    record = latest_resumable(es, settings) if stamp == "latest" else load_record(es, settings, stamp)
    if record.state not in RESUMABLE:
        raise BuildError(f"build {record.stamp} is {record.state}; only an interrupted build can be resumed")
    if record.model != embedder.fingerprint:
        raise BuildError(f"build {record.stamp} was made with model {record.model}, not "
                         f"{embedder.fingerprint}; discard it (`indexer discard {record.stamp}`) and build "
                         "again")
    for source in (*record.products, *record.brand_keywords):
        if why := source.changed():
            raise BuildError(f"cannot resume {record.stamp}: {why}; discard it and build again")
    with engine_errors(f"checking {record.products_index}"):
        if not es.indices.exists(index=record.products_index):
            raise BuildError(f"cannot resume {record.stamp}: index {record.products_index} is gone; "
                             "discard it")
    return record, (load_base(settings, embedder, record.base) if record.base else None)
