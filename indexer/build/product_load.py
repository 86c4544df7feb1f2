"""A build's product load, as stages that hand each other values: read → embed → write → collect.

read     `_Reader`: validated catalog products in batches; a build from a clone gets only the
         products the clone does not already hold as a fresh build would write them.
embed    `ProductDocuments.embed` (shared with upserts): the batch's vectors; the writer is
         quieted first whenever the model must run, so Elasticsearch never indexes during a
         forward pass (`indexer.build.writer`).
write    `_Stages.write`: analysed text, then documents queued chunk by chunk to the bulk writer,
         whose acknowledgements advance the build record's checkpoint (`_Checkpoint`); a
         resumed build skips the batches its index already holds.
collect  `_Collected`: the ids and vectors the snapshot and verification need.

`load_products` returns all of it as one `Loaded` and the pipeline copies that into the report
and the record; the only writes during the load are the checkpoints.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from elasticsearch import Elasticsearch
from tqdm import tqdm

from indexer.build.documents_step import Embedded, ProductDocuments
from indexer.build.options import BuildOptions
from indexer.build.report import timed
from indexer.build.reuse import Base, removals
from indexer.build.writer import BulkWriter
from indexer.catalog import load
from indexer.catalog.models import Product
from indexer.core.config import Settings
from indexer.core.errors import BuildError
from indexer.embedding.embedder import Embedder
from indexer.store.bulk import BulkFailure, bulk_delete
from indexer.store.changelog import Change
from indexer.store.records import BuildRecord

WRITERS = 2
"""Concurrent bulk requests: with nothing to encode, Elasticsearch can then use both cores."""

CHECKPOINT_SECONDS = 2.0
"""How often the build record's checkpoint is written while loading."""


@dataclass(frozen=True)
class Contents:
    """What the new version holds: every live id, and the ids and rows of its vectors."""

    ids: set[str]
    vector_ids: list[str]
    matrix: np.ndarray

    def with_changes(self, changes: Sequence[Change]) -> Contents:
        """These contents with replayed live changes folded in (later changes win)."""
        if not changes:
            return self
        latest = {c.id: c for c in changes}
        keep = [i for i, pid in enumerate(self.vector_ids) if pid not in latest]
        extra = [c for c in latest.values() if c.vector is not None and not c.tombstone]
        blocks = [self.matrix[keep]] + ([np.vstack([c.vector for c in extra])] if extra else [])
        ids = set(self.ids)
        for change in latest.values():
            if change.tombstone:
                ids.discard(change.id)
            else:
                ids.add(change.id)
        return Contents(ids, [self.vector_ids[i] for i in keep] + [c.id for c in extra],
                        np.ascontiguousarray(np.vstack(blocks), dtype=np.float32))


@dataclass(frozen=True)
class Loaded:
    """Everything the product load produced, for the report, the record and the snapshot."""

    contents: Contents
    rejects: load.RejectLog
    failures: list[BulkFailure]
    """Documents Elasticsearch refused (already left out of `contents`)."""
    rewritten: int
    """Products written by this build (a resumed one counts the batches it skipped too)."""
    removed: int | None
    """Products deleted from the clone for being gone from the catalog; None without a clone."""
    cache_hits: int
    cache_misses: int
    embed_seconds: float
    split: dict[str, float]
    """Main-thread seconds by stage: the report's `load_split`."""


class _Checkpoint:
    """The writer's ack callback: the build record's checkpoint.

    The last batch Elasticsearch fully acknowledged goes into the record, saved at most every
    CHECKPOINT_SECONDS (this runs on the writer threads).
    """

    def __init__(self, es: Elasticsearch, settings: Settings, record: BuildRecord) -> None:
        self._es, self._settings, self._record = es, settings, record
        self._saved = time.monotonic()

    def __call__(self, batch: int) -> None:
        self._record.batches_done = batch
        if time.monotonic() - self._saved >= CHECKPOINT_SECONDS:
            self._record.save(self._es, self._settings)
            self._saved = time.monotonic()


class _Reader:
    """Stage read: validated products in batches; rows and rejects are counted in `rejects`."""

    def __init__(self, options: BuildOptions, batch_size: int, base: Base | None) -> None:
        self.rejects = load.RejectLog()
        self.seen: set[str] = set()
        """With a clone: every catalog id, the products it holds already included."""
        self.reused: list[str] = []
        """With a clone: the products it holds as they are (not read further)."""
        products = load.products(options.products, self.rejects)
        if base is not None:
            products = self._changed(products, base)
        self._batches = load.batched(products, batch_size)

    def _changed(self, products: Iterator[Product], base: Base) -> Iterator[Product]:
        for product in products:
            self.seen.add(product.id)
            if base.unchanged(product):
                self.reused.append(product.id)
            else:
                yield product

    def next(self) -> list[Product] | None:
        """The next batch, None at the end."""
        return next(self._batches, None)


@dataclass
class _Collected:
    """Stage collect: what the written (or skipped) batches add up to."""

    ids: set[str]
    vector_ids: list[str] = field(default_factory=list)
    blocks: list[np.ndarray] = field(default_factory=list)
    rewritten: int = 0
    embed_seconds: float = 0.0

    def add(self, embedded: Embedded, seconds: float) -> None:
        self.ids.update(p.id for p in embedded.products)
        self.rewritten += len(embedded.products)
        self.vector_ids.extend(embedded.vector_ids)
        self.blocks.append(embedded.vectors)
        self.embed_seconds += seconds


@dataclass(frozen=True)
class _Stages:
    """The embed and write stages of one load, and the clock of its main thread (`split`)."""

    step: ProductDocuments
    writer: BulkWriter
    indexed_at: datetime
    seq: int
    chunk: int
    split: dict[str, float] = field(default_factory=dict)

    def read(self, reader: _Reader) -> list[Product] | None:
        with timed(self.split, "read"):
            return reader.next()

    def embed(self, batch: list[Product]) -> tuple[Embedded, float]:
        """The batch's vectors and the wall seconds they took (waiting for the writer included)."""
        def quiet_writer() -> None:  # the model runs alone
            with timed(self.split, "wait"):
                self.writer.wait_idle()

        started, waited = time.perf_counter(), self.split.get("wait", 0.0)
        embedded = self.step.embed(batch, before_encoding=quiet_writer)
        elapsed = time.perf_counter() - started
        self.split["encode"] = self.split.get("encode", 0.0) + elapsed - (self.split.get("wait", 0.0) - waited)
        return embedded, elapsed

    def write(self, embedded: Embedded, number: int) -> None:
        """Queue batch `number`'s documents; ES indexes chunk k while chunk k+1 is being built."""
        with timed(self.split, "analyse"):
            analysed = self.step.analyse(embedded.products)
        ready = self.step.documents(embedded, analysed, self.indexed_at, self.seq)
        size = len(embedded.products)
        with timed(self.split, "write"):
            for start in range(0, size, self.chunk):
                part = range(start, min(start + self.chunk, size))
                self.writer.put(ready.docs(part), number, last=part.stop == size)


def _stream(stages: _Stages, reader: _Reader, skip_through: int, bar: tqdm) -> _Collected:
    """Run every batch through the stages; batches up to `skip_through` are in the index already."""
    collected = _Collected(ids=reader.seen)
    number = -1
    while (batch := stages.read(reader)) is not None:
        number += 1
        embedded, seconds = stages.embed(batch)
        if number > skip_through:
            stages.write(embedded, number)
        else:
            stages.writer.skip(number)
        collected.add(embedded, seconds)
        bar.update(reader.rejects.rows - bar.n)
    bar.update(reader.rejects.rows - bar.n)
    return collected


def load_products(es: Elasticsearch, settings: Settings, embedder: Embedder, options: BuildOptions,
                  record: BuildRecord, base: Base | None) -> Loaded:
    """Write the catalog's products into `record.products_index`, from its checkpoint on.

    Raises:
        BuildError: products gone from the catalog could not be deleted from the clone.
        EngineError: Elasticsearch failed (the checkpoint says how far the index is written).

    """
    total = load.count_rows(options.products) if options.progress else None
    step = ProductDocuments.open(settings, embedder, embeddings=options.cache, analysis=options.cache)
    # resumed: these batches are in ES already (a clone's batches are of changed products only,
    # which a resumed run finds again by comparing the clone with the catalog)
    skip_through = record.batches_done if base is None else -1
    writer = BulkWriter(es, record.products_index, on_acked=_Checkpoint(es, settings, record), workers=WRITERS)
    stages = _Stages(step, writer, datetime.now(UTC), record.seq, settings.bulk_chunk_docs)
    bar = tqdm(total=total, unit="doc", desc="resuming" if skip_through >= 0 else "indexing",
               disable=not options.progress, smoothing=0.1)
    try:
        reader = _Reader(options, record.batch_size, base)
        collected = _stream(stages, reader, skip_through, bar)
        bulk = writer.close()
    except BaseException:
        with contextlib.suppress(Exception):  # the first error is the one worth reporting
            writer.close()
        raise
    finally:
        bar.close()
        step.close()
    removed, vector_ids, blocks = None, collected.vector_ids, collected.blocks
    if base is not None:  # the reused products' vectors come from the snapshot, ahead of the written ones
        removed = _remove_gone(es, record.products_index, base, collected.ids)
        kept_ids, kept = base.snapshot.vectors(reader.reused)
        vector_ids, blocks = kept_ids + vector_ids, [kept, *blocks]
    return Loaded(_contents(collected.ids, vector_ids, blocks, bulk.failures, embedder.dims), reader.rejects,
                  bulk.failures, collected.rewritten, removed, step.cache_hits, step.cache_misses,
                  collected.embed_seconds, stages.split)


def _remove_gone(es: Elasticsearch, index: str, base: Base, ids: set[str]) -> int:
    """Delete from the clone what the catalog (`ids`) no longer holds; how many that were."""
    gone = removals(base, ids)
    deleted = bulk_delete(es, index, gone)
    if deleted.failures:
        raise BuildError(f"could not delete {len(deleted.failures)} products gone from the catalog "
                         f"from {index}; first: {deleted.failures[0].reason}")
    return len(gone)


def _contents(ids: set[str], vector_ids: list[str], blocks: list[np.ndarray], failures: list[BulkFailure],
              dims: int) -> Contents:
    """The loaded ids and vectors, less the documents Elasticsearch refused.

    Refused documents must not linger in the vector replica either.
    """
    matrix = np.vstack(blocks) if blocks else np.zeros((0, dims), dtype=np.float32)
    if not failures:
        return Contents(ids, vector_ids, matrix)
    refused = {f.id for f in failures}
    keep = [i for i, pid in enumerate(vector_ids) if pid not in refused]
    return Contents(ids - refused, [vector_ids[i] for i in keep], matrix[keep])
