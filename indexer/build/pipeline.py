"""Full builds: a new version of every index, verified, then made live in one alias swap.

Read → validate → embed → bulk-write runs as a pipeline (see `indexer.writer` for how the
model and Elasticsearch share the cores); cached embeddings are not encoded again. Nothing
touches the live aliases until the new version verifies. One build runs at a time (the build
lock). Its record in the state index carries a checkpoint: the last batch Elasticsearch fully
acknowledged. A build that fails on its own terms (rejects, refused documents, verification)
is discarded; one that is interrupted (Elasticsearch down, process killed, Ctrl-C) keeps its
index and record and can be resumed (`resume=`) or discarded (`indexer discard`). Changes
written to the live version while the build ran are replayed onto the new one, under the write
lock, just before the swap.

When the live version was built with the same mappings, model, analysis and document format,
a build starts from a clone of it and writes only what the catalog changed (`indexer.reuse`);
`BuildOptions.reuse=False` (`indexer build --full`) writes every document.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch
from tqdm import tqdm

from indexer.build.analysis_cache import AnalysisCache
from indexer.build.reuse import Base, build_fingerprint, clone, load_base, removals, reusable_base
from indexer.build.verify import verify_products
from indexer.build.writer import BulkWriter
from indexer.catalog import load
from indexer.catalog.models import Product, Reject
from indexer.catalog.readers import check_source
from indexer.core.config import Settings
from indexer.core.errors import BuildError, IndexerError
from indexer.core.es import engine_errors, ping
from indexer.embedding.embed_cache import EmbeddingCache, embed_cached
from indexer.embedding.embedder import Embedder, check_template, document_text
from indexer.format import mappings
from indexer.format.documents import analysed_text, brand_keyword_doc, product_doc, rounded
from indexer.format.vectors import VectorIndex
from indexer.store.bulk import BulkFailure, bulk_delete, bulk_write
from indexer.store.changelog import Change, replay
from indexer.store.lifecycle import discard_build, mark_retired, prune
from indexer.store.locks import BUILD_LOCK, WRITE_LOCK, WRITE_LOCK_WAIT_S, Lock
from indexer.store.records import RESUMABLE, BuildRecord, Source, latest_resumable
from indexer.store.records import load as load_record
from indexer.store.sequence import next_seq
from indexer.store.versions import alias_target, index_name, new_stamp, swap_aliases

log = logging.getLogger(__name__)

LOAD_SETTINGS = {"index": {"refresh_interval": "-1", "auto_expand_replicas": "false",
                           "number_of_replicas": 0}}
"""During the load: no refreshes, no replicas (the alias migration recipe)."""
LIVE_SETTINGS = {"index": {"refresh_interval": None, "auto_expand_replicas": "0-1"}}


@dataclass(frozen=True)
class BuildOptions:
    """What to build and how strict to be."""

    products: tuple[Path, ...] = ()
    brand_keywords: tuple[Path, ...] = ()
    max_reject_ratio: float = 0.05
    allow_failures: int = 0
    reject_dir: Path | None = None
    # sentence-transformers sorts each call's texts by length, so larger calls pad less; on the
    # 10k sample 1024 gave 213 docs/s vs 197 at 256 (single runs on a noisy machine)
    batch_size: int = 1024
    progress: bool = True
    cache: bool = True
    """Reuse embeddings and analysed text of unchanged products (settings.cache_dir)."""
    reuse: bool = True
    """Start from a clone of the live version when its documents are of the same making (and
    `cache` is on); False writes every document again."""


@contextlib.contextmanager
def timed(into: dict[str, float], label: str) -> Iterator[None]:
    """Add the wall seconds of the block to `into[label]`."""
    started = time.perf_counter()
    try:
        yield
    finally:
        into[label] = into.get(label, 0.0) + time.perf_counter() - started


@dataclass
class BuildReport:
    """The outcome of a build, for the CLI summary and for tests."""

    version: str
    products_index: str
    brand_keywords_index: str | None = None
    snapshot: Path | None = None
    rows: int = 0
    accepted: int = 0
    rejects: list[Reject] = field(default_factory=list)
    reject_report: Path | None = None
    brand_keywords: int = 0
    failures: list[BulkFailure] = field(default_factory=list)
    vectors: int = 0
    previous: str | None = None
    seconds: float = 0.0
    embed_seconds: float = 0.0
    cache_hits: int = 0
    cache_misses: int = 0
    resumed: bool = False
    base: str | None = None
    """The live index this build started from (a clone), None when written from scratch."""
    rewritten: int = 0
    removed: int = 0
    replayed: int = 0
    pruned: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    """Wall seconds per build step, in order: where a slow build spends its time."""
    load_split: dict[str, float] = field(default_factory=dict)
    """The product load's wall seconds by what the main thread did: read (catalog + validation),
    wait (for Elasticsearch to finish the previous batch before a forward pass), encode, analyse,
    write (documents built and queued; includes waits for a full queue)."""

    def phase(self, name: str) -> contextlib.AbstractContextManager[None]:
        """Time one build step into `phases`."""
        return timed(self.phases, name)

    @property
    def docs_per_s(self) -> float:
        """Accepted products per wall-clock second, end to end."""
        return self.accepted / self.seconds if self.seconds else 0.0



def _create_index(es: Elasticsearch, name: str, body: dict[str, Any]) -> None:
    settings = dict(body.get("settings", {}))
    settings.pop("auto_expand_replicas", None)
    settings.update(LOAD_SETTINGS)
    with engine_errors(f"creating index {name}"):
        es.indices.create(index=name, settings=settings, mappings=body["mappings"])


def _finish_index(es: Elasticsearch, name: str) -> None:
    with engine_errors(f"finishing index {name}"):
        es.indices.put_settings(index=name, settings=LIVE_SETTINGS)
        es.indices.refresh(index=name)


WRITERS = 2
"""Concurrent bulk requests: with nothing to encode, Elasticsearch can then use both cores."""

CHECKPOINT_SECONDS = 2.0
"""How often the build record's checkpoint is written while loading."""


@dataclass
class _Loaded:
    """What the product load produced: every live id, and the ids and rows of the vectors."""

    ids: set[str]
    vector_ids: list[str]
    matrix: np.ndarray


def _changed(products: Iterator[Product], base: Base, all_ids: set[str], reused: list[str]) -> Iterator[Product]:
    """The products the clone does not already hold as a fresh build would write them."""
    for product in products:
        all_ids.add(product.id)
        if base.unchanged(product):
            reused.append(product.id)
        else:
            yield product


def _load_products(es: Elasticsearch, embedder: Embedder, settings: Settings, options: BuildOptions,
                   record: BuildRecord, log_: load.RejectLog, report: BuildReport,
                   base: Base | None) -> _Loaded:
    total = load.count_rows(options.products) if options.progress else None
    cache = EmbeddingCache(settings.embedding_cache_path, embedder.fingerprint, embedder.dims) \
        if options.cache else None
    analysis = AnalysisCache(settings.analysis_cache_path) if options.cache else None
    # resumed: these batches are in ES already (a clone's batches are of changed products only,
    # which a resumed run finds again by comparing the clone with the catalog)
    skip_through = record.batches_done if base is None else -1
    last_save = [time.monotonic()]

    def acked(batch: int) -> None:
        record.batches_done = batch
        if time.monotonic() - last_save[0] >= CHECKPOINT_SECONDS:
            record.save(es, settings)
            last_save[0] = time.monotonic()

    writer = BulkWriter(es, record.products_index, on_acked=acked, workers=WRITERS)
    now = datetime.now(UTC)
    chunk = settings.bulk_chunk_docs
    all_ids: set[str] = set()
    vector_ids: list[str] = []
    reused: list[str] = []
    blocks: list[np.ndarray] = []
    bar = tqdm(total=total, unit="doc", desc="resuming" if skip_through >= 0 else "indexing",
               disable=not options.progress, smoothing=0.1)
    try:
        products = load.products(options.products, log_)
        if base is not None:
            products = _changed(products, base, all_ids, reused)
        batches = iter(load.batched(products, record.batch_size))
        split = report.load_split

        def quiet_writer() -> None:
            with timed(split, "wait"):
                writer.wait_idle()

        number = -1
        while True:
            with timed(split, "read"):
                batch = next(batches, None)
            if batch is None:
                break
            number += 1
            texts = [embedder.readable(document_text(p, settings.embed_template)) for p in batch]
            readable = [i for i, text in enumerate(texts) if text]
            started, waited = time.perf_counter(), split.get("wait", 0.0)
            vectors = embed_cached(embedder, cache, [texts[i] for i in readable],
                                   before_encoding=quiet_writer)  # the model runs alone
            elapsed = time.perf_counter() - started
            report.embed_seconds += elapsed
            split["encode"] = split.get("encode", 0.0) + elapsed - (split.get("wait", 0.0) - waited)
            if number > skip_through:
                by_row = dict(zip(readable, rounded(vectors), strict=True))
                with timed(split, "analyse"):
                    fields = analysis.analyse(batch) if analysis else [analysed_text(p) for p in batch]
                with timed(split, "write"):
                    for start in range(0, len(batch), chunk):
                        part = range(start, min(start + chunk, len(batch)))
                        writer.put([(batch[i].id, product_doc(batch[i], by_row.get(i), now, record.seq, fields[i]))
                                    for i in part], number, last=part.stop == len(batch))
            else:
                writer.skip(number)
            all_ids.update(p.id for p in batch)
            report.rewritten += len(batch)
            vector_ids.extend(batch[i].id for i in readable)
            blocks.append(vectors)
            bar.update(log_.rows - bar.n)
        bar.update(log_.rows - bar.n)
        bulk = writer.close()
    except BaseException:
        with contextlib.suppress(Exception):  # the first error is the one worth reporting
            writer.close()
        raise
    finally:
        bar.close()
        if cache:
            report.cache_hits, report.cache_misses = cache.hits, cache.misses
            cache.close()
        if analysis:
            analysis.close()
    if base is not None:
        gone = removals(base, all_ids)
        deleted = bulk_delete(es, record.products_index, gone)
        if deleted.failures:
            raise BuildError(f"could not delete {len(deleted.failures)} products gone from the catalog "
                             f"from {record.products_index}; first: {deleted.failures[0].reason}")
        kept_ids, kept = base.snapshot.vectors(reused)
        vector_ids, blocks = kept_ids + vector_ids, [kept, *blocks]
        report.removed = record.removed = len(gone)
        record.rewritten = report.rewritten
    record.save(es, settings)
    report.failures.extend(bulk.failures)
    matrix = np.vstack(blocks) if blocks else np.zeros((0, embedder.dims), dtype=np.float32)
    if bulk.failures:  # refused documents must not linger in the vector replica either
        refused = {f.id for f in bulk.failures}
        all_ids -= refused
        keep = [i for i, pid in enumerate(vector_ids) if pid not in refused]
        vector_ids, matrix = [vector_ids[i] for i in keep], matrix[keep]
    return _Loaded(all_ids, vector_ids, matrix)


def _apply_changes(loaded: _Loaded, changes: list[Change]) -> None:
    """Fold replayed changes into the loaded ids and vectors (later changes win)."""
    if not changes:
        return
    latest = {c.id: c for c in changes}
    keep = [i for i, pid in enumerate(loaded.vector_ids) if pid not in latest]
    extra = [c for c in latest.values() if c.vector is not None and not c.tombstone]
    loaded.vector_ids = [loaded.vector_ids[i] for i in keep] + [c.id for c in extra]
    blocks = [loaded.matrix[keep]] + ([np.vstack([c.vector for c in extra])] if extra else [])
    loaded.matrix = np.ascontiguousarray(np.vstack(blocks), dtype=np.float32)
    for change in latest.values():
        if change.tombstone:
            loaded.ids.discard(change.id)
        else:
            loaded.ids.add(change.id)


def _check_rejects(log_: load.RejectLog, options: BuildOptions, what: str) -> None:
    if log_.accepted == 0:
        raise BuildError(f"no usable {what}: {log_.rows} rows read, all rejected"
                         + (f" (first: {log_.rejects[0].describe()})" if log_.rejects else ""))
    if log_.ratio > options.max_reject_ratio:
        raise BuildError(f"{len(log_.rejects)} of {log_.rows} {what} rows rejected "
                         f"({log_.ratio:.1%} > --max-reject-ratio {options.max_reject_ratio:.1%}); "
                         f"first: {log_.rejects[0].describe()}")


def _load_brand_keywords(es: Elasticsearch, settings: Settings, options: BuildOptions, bk_index: str,
                         report: BuildReport) -> None:
    with engine_errors(f"recreating {bk_index}"):  # small: a resumed build simply reloads it
        es.indices.delete(index=bk_index, ignore_unavailable=True)
    _create_index(es, bk_index, mappings.load(settings.mappings_dir, "brand_keywords"))
    bk_log = load.RejectLog()
    now = datetime.now(UTC)
    bk = bulk_write(es, bk_index, ((k.id, brand_keyword_doc(k, now))
                                   for k in load.brand_keywords(options.brand_keywords, bk_log)))
    if options.reject_dir and bk_log.rejects:
        bk_log.write(options.reject_dir / f"{bk_index}-rejects.jsonl")
    _check_rejects(bk_log, options, "brand keyword")
    if bk.failures:
        raise BuildError(f"Elasticsearch refused {len(bk.failures)} brand keywords; "
                         f"first: {bk.failures[0].id}: {bk.failures[0].reason}")
    report.rejects.extend(bk_log.rejects)
    report.brand_keywords_index, report.brand_keywords = bk_index, bk.written


def _start(es: Elasticsearch, settings: Settings, embedder: Embedder,
           options: BuildOptions) -> tuple[BuildRecord, Base | None]:
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
        fingerprint=build_fingerprint(settings, embedder))
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
        _create_index(es, record.products_index,
                      mappings.load(settings.mappings_dir, "products", dims=embedder.dims))
    return record, base


def _resumable(es: Elasticsearch, settings: Settings, embedder: Embedder,
               stamp: str) -> tuple[BuildRecord, Base | None]:
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


def build(settings: Settings, es: Elasticsearch, embedder: Embedder, options: BuildOptions, *,
          resume: str | None = None) -> BuildReport:
    """Build (or resume), verify and publish a new version of the product and brand-keyword indices.

    Args:
        settings: cluster, prefix, directories.
        es: client.
        embedder: the model (a resumed build must use the one it started with).
        options: sources and strictness; a resumed build reads the sources of its record.
        resume: a build stamp, or "latest", to continue an interrupted build.

    Raises:
        BuildError: rejects over the limit, refused documents over `allow_failures`, failed
            verification, or a build that cannot be resumed; a failed build's indices and
            snapshot are deleted and the aliases are as they were.
        LockedError: another build holds the build lock.
        EngineError: Elasticsearch failed; the build is kept as interrupted, resumable.

    """
    check_template(settings.embed_template)
    started = time.perf_counter()
    ping(es)
    lock = Lock(es, settings, BUILD_LOCK, purpose=f"build (pid {os.getpid()})").acquire()
    record: BuildRecord | None = None
    try:
        if resume:
            record, base = _resumable(es, settings, embedder, resume)
            options = replace(options, products=tuple(Path(s.path) for s in record.products),
                              brand_keywords=tuple(Path(s.path) for s in record.brand_keywords))
        else:
            record, base = _start(es, settings, embedder, options)
        record.state, record.error = "running", None
        record.save(es, settings)
        report = _run(settings, es, embedder, options, record, base)
        report.resumed = resume is not None
    except BuildError as exc:
        if record is not None and record.state in RESUMABLE:
            discard_build(es, settings, record, state="failed", error=str(exc))
        raise
    except BaseException as exc:
        if record is not None:
            _interrupted(es, settings, record, exc)
        raise
    finally:
        lock.release()
    report.seconds = time.perf_counter() - started
    return report


def _run(settings: Settings, es: Elasticsearch, embedder: Embedder, options: BuildOptions,
         record: BuildRecord, base: Base | None) -> BuildReport:
    report = BuildReport(version=record.stamp, products_index=record.products_index, base=record.base)
    product_log = load.RejectLog()
    if base is not None:
        with report.phase("read clone"):
            base.read(es, record.products_index)
    with report.phase("load products"):
        loaded = _load_products(es, embedder, settings, options, record, product_log, report, base)
    report.rows, report.accepted = product_log.rows, product_log.accepted
    report.rejects = list(product_log.rejects)
    if options.reject_dir and product_log.rejects:
        report.reject_report = product_log.write(
            options.reject_dir / f"{record.products_index}-rejects.jsonl")
    _check_rejects(product_log, options, "product")
    if len(report.failures) > options.allow_failures:
        first = report.failures[0]
        raise BuildError(f"Elasticsearch refused {len(report.failures)} documents (allowed: "
                         f"{options.allow_failures}); first: {first.id}: {first.reason}")
    report.accepted -= len(report.failures)
    aliases = {settings.products_alias: record.products_index}
    if record.brand_keywords_index:
        with report.phase("brand keywords"):
            _load_brand_keywords(es, settings, options, record.brand_keywords_index, report)
        aliases[settings.brand_keywords_alias] = record.brand_keywords_index
    with report.phase("refresh"):
        for name in aliases.values():
            _finish_index(es, name)
    # From here to the swap no live change may slip through: replay, snapshot, verify, swap.
    with Lock(es, settings, WRITE_LOCK, purpose=f"build {record.stamp} swap", wait=WRITE_LOCK_WAIT_S):
        seq = record.seq
        live = alias_target(es, settings.products_alias)
        if live and live != record.products_index:
            with report.phase("replay changes"):
                changes, replayed = replay(es, live, record.products_index, record.seq)
                if replayed.failures:
                    raise BuildError(f"replaying {len(changes)} live changes failed for "
                                     f"{len(replayed.failures)}: {replayed.failures[0].reason}")
                _apply_changes(loaded, changes)
                report.replayed = len(changes)
                seq = max([seq, *(c.seq for c in changes)])
                _finish_index(es, record.products_index)
        with report.phase("vector snapshot"):
            centroids = _reusable_centroids(settings, live, embedder, report, len(loaded.vector_ids), base)
            vectors = VectorIndex.build(loaded.vector_ids, loaded.matrix, version=record.products_index,
                                        model=embedder.model_id, seq=seq, centroids=centroids)
            report.snapshot = vectors.save(settings.vectors_dir / record.products_index)
        report.vectors = vectors.count
        with report.phase("verify"):
            verify_products(es, record.products_index, vectors, expected=len(loaded.ids))
        previous = swap_aliases(es, aliases)
    report.previous = previous[settings.products_alias]
    record.state, record.accepted, record.vectors = "live", len(loaded.ids), vectors.count
    record.save(es, settings)
    mark_retired(es, settings, report.previous)
    with report.phase("prune"):
        report.pruned = prune(es, settings, keep=settings.keep_versions)
    return report


REUSE_CENTROIDS_MAX_NEW = 0.05
"""Seed IVF lists from the live snapshot when at most this share of vectors is newly encoded:
the vectors are then (nearly) the ones those centroids were trained on."""


def _reusable_centroids(settings: Settings, live: str | None, embedder: Embedder, report: BuildReport,
                        count: int, base: Base | None) -> np.ndarray | None:
    if report.cache_misses > REUSE_CENTROIDS_MAX_NEW * count:
        return None
    if base is not None:
        return base.snapshot.centroids()
    if live is None or report.cache_hits == 0:
        return None
    try:
        return VectorIndex.load(settings.vectors_dir / live, expect_model=embedder.model_id).centroids()
    except IndexerError:
        return None


def _interrupted(es: Elasticsearch, settings: Settings, record: BuildRecord, exc: BaseException) -> None:
    """Keep an interrupted build resumable; ES may be what failed, so recording is best effort."""
    record.state, record.error = "interrupted", f"{type(exc).__name__}: {exc}"
    try:
        record.save(es, settings)
    except Exception as save_exc:
        log.warning("could not record build %s as interrupted (%s); it stays resumable",
                    record.stamp, save_exc)
    log.error("build %s interrupted: resume with `indexer build --resume %s` or drop it with "
              "`indexer discard %s`", record.stamp, record.stamp, record.stamp)
