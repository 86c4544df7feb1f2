"""Full builds: a new version of every index, verified, then made live in one alias swap.

This module is the orchestration; the steps live beside it. A build begins (`start`: a new
record and index, or an interrupted build's record to resume), loads the products
(`product_load`: read → embed → bulk-write as gated stages, see `writer` for how the model and
Elasticsearch share the cores; cached embeddings are not encoded again) and the brand keywords
(`brand_keywords`), then publishes. Nothing touches the live aliases until the new version
verifies. One build runs at a time (the build lock). Its record in the state index carries a
checkpoint: the last batch Elasticsearch fully acknowledged. A build that fails on its own terms
(rejects, refused documents, verification) is discarded; one that is interrupted (Elasticsearch
down, process killed, Ctrl-C) keeps its index and record and can be resumed (`resume=`) or
discarded (`indexer discard`). Changes written to the live version while the build ran are
replayed onto the new one, under the write lock, just before the swap.

When the live version was built with the same mappings, model, analysis and document format,
a build starts from a clone of it and writes only what the catalog changed (`reuse`);
`BuildOptions.reuse=False` (`indexer build --full`) writes every document.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from elasticsearch import Elasticsearch

from indexer.build.brand_keywords import check_rejects, load_brand_keywords
from indexer.build.indexes import await_replicas, finish_index
from indexer.build.options import BuildOptions
from indexer.build.product_load import Contents, Loaded, load_products
from indexer.build.report import BuildReport
from indexer.build.reuse import Base
from indexer.build.start import resumable, start
from indexer.build.suggestions import load_suggestions, verify_suggestions
from indexer.build.verify import verify_products
from indexer.core.config import Settings
from indexer.core.errors import BuildError, IndexerError
from indexer.core.es import ping
from indexer.embedding.embedder import Embedder, check_template
from indexer.format.vectors import VectorIndex
from indexer.store.changelog import replay
from indexer.store.lifecycle import discard_build, mark_retired, prune
from indexer.store.locks import BUILD_LOCK, WRITE_LOCK, WRITE_LOCK_WAIT_S, Lock
from indexer.store.records import RESUMABLE, BuildRecord
from indexer.store.versions import alias_target, swap_aliases

__all__ = ["BuildOptions", "BuildReport", "build"]

log = logging.getLogger(__name__)


def build(settings: Settings, es: Elasticsearch, embedder: Embedder, options: BuildOptions, *,
          resume: str | None = None) -> BuildReport:
    """Build (or resume), verify and publish a new version of the product, brand-keyword and suggestion indices.

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
            record, base = resumable(es, settings, embedder, resume)
            options = replace(options, products=tuple(Path(s.path) for s in record.products),
                              brand_keywords=tuple(Path(s.path) for s in record.brand_keywords))
        else:
            record, base = start(es, settings, embedder, options)
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
    """Load, check, refresh, then publish under the write lock; record the build live and prune."""
    report = BuildReport(version=record.stamp, products_index=record.products_index, base=record.base)
    if base is not None:
        with report.phase("read clone"):
            base.read(es, record.products_index)
    with report.phase("load products"):
        loaded = load_products(es, settings, embedder, options, record, base)
        _take_load(report, record, loaded)
        record.save(es, settings)
    _check_load(report, loaded, options, record)
    aliases = {settings.products_alias: record.products_index}
    if record.brand_keywords_index:
        with report.phase("brand keywords"):
            keywords = load_brand_keywords(es, settings, options, record.brand_keywords_index)
        report.rejects.extend(keywords.rejects)
        report.brand_keywords_index, report.brand_keywords = keywords.index, keywords.written
        aliases[settings.brand_keywords_alias] = record.brand_keywords_index
    if record.suggestions_index:
        with report.phase("suggestions"):
            report.suggestions_index, report.suggestions = load_suggestions(
                es, settings, options, record.suggestions_index)
        aliases[settings.suggestions_alias] = record.suggestions_index
    with report.phase("refresh"):
        for name in aliases.values():
            finish_index(es, name, settings.replicas)
        await_replicas(es, aliases.values(), settings.replicas)
    contents = _publish(settings, es, embedder, record, base, loaded.contents, aliases, report)
    record.state, record.accepted, record.vectors = "live", len(contents.ids), report.vectors
    record.save(es, settings)
    mark_retired(es, settings, report.previous)
    with report.phase("prune"):
        report.pruned = prune(es, settings, keep=settings.keep_versions)
    return report


def _take_load(report: BuildReport, record: BuildRecord, loaded: Loaded) -> None:
    """Copy what the product load returned into the report and the build record (the one place)."""
    report.rows, report.accepted = loaded.rejects.rows, loaded.rejects.accepted
    report.rejects = list(loaded.rejects.rejects)
    report.failures.extend(loaded.failures)
    report.rewritten = loaded.rewritten
    report.cache_hits, report.cache_misses = loaded.cache_hits, loaded.cache_misses
    report.embed_seconds, report.load_split = loaded.embed_seconds, loaded.split
    if loaded.removed is not None:  # started from a clone
        report.removed = record.removed = loaded.removed
        record.rewritten = loaded.rewritten


def _check_load(report: BuildReport, loaded: Loaded, options: BuildOptions, record: BuildRecord) -> None:
    """Write the reject report, then fail on too many rejects or refused documents."""
    if options.reject_dir and loaded.rejects.rejects:
        report.reject_report = loaded.rejects.write(options.reject_dir / f"{record.products_index}-rejects.jsonl")
    check_rejects(loaded.rejects, options, "product")
    if len(report.failures) > options.allow_failures:
        first = report.failures[0]
        raise BuildError(f"Elasticsearch refused {len(report.failures)} documents (allowed: "
                         f"{options.allow_failures}); first: {first.id}: {first.reason}")
    report.accepted -= len(report.failures)


def _publish(settings: Settings, es: Elasticsearch, embedder: Embedder, record: BuildRecord, base: Base | None,
             contents: Contents, aliases: dict[str, str], report: BuildReport) -> Contents:
    """Replay live changes, snapshot the vectors, verify, swap the aliases; returns what went live.

    All under the write lock, so no live change slips through.
    """
    with Lock(es, settings, WRITE_LOCK, purpose=f"build {record.stamp} swap", wait=WRITE_LOCK_WAIT_S):
        seq = record.seq
        live = alias_target(es, settings.products_alias)
        if live and live != record.products_index:
            with report.phase("replay changes"):
                changes, replayed = replay(es, live, record.products_index, record.seq)
                if replayed.failures:
                    raise BuildError(f"replaying {len(changes)} live changes failed for "
                                     f"{len(replayed.failures)}: {replayed.failures[0].reason}")
                contents = contents.with_changes(changes)
                report.replayed = len(changes)
                seq = max([seq, *(c.seq for c in changes)])
                finish_index(es, record.products_index, settings.replicas)
        with report.phase("vector snapshot"):
            centroids = _reusable_centroids(settings, live, embedder, report, len(contents.vector_ids), base)
            vectors = VectorIndex.build(contents.vector_ids, contents.matrix, version=record.products_index,
                                        model=embedder.model_id, seq=seq, centroids=centroids)
            report.snapshot = vectors.save(settings.vectors_dir / record.products_index)
        report.vectors = vectors.count
        with report.phase("verify"):
            verify_products(es, record.products_index, vectors, expected=len(contents.ids))
            if report.suggestions_index:
                verify_suggestions(es, report.suggestions_index, expected=report.suggestions)
        previous = swap_aliases(es, aliases)
    report.previous = previous[settings.products_alias]
    return contents


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
