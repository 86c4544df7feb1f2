"""Full builds: a new version of every index, verified, then made live in one alias swap.

Read → validate → embed → bulk-write runs as a pipeline: the model encodes batch n+1 while a
writer thread streams batch n to Elasticsearch, so the end-to-end rate stays close
to the model's own encode rate; cached embeddings (`embed_cache`) are not encoded again.
Nothing touches the live aliases until the new version verifies; a failed build deletes what it
created and leaves the live version as it was.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch
from tqdm import tqdm

from indexer import catalog, mappings
from indexer.bulk import BulkFailure, bulk_write
from indexer.config import Settings
from indexer.documents import brand_keyword_doc, product_doc
from indexer.embed_cache import EmbeddingCache, embed_cached
from indexer.embedder import Embedder, check_template, document_text
from indexer.errors import BuildError, IndexerError
from indexer.es import engine_errors, ping
from indexer.models import Product, Reject
from indexer.readers import check_source
from indexer.vectors import VectorIndex
from indexer.verify import verify_products
from indexer.versions import index_name, new_stamp, swap_aliases
from indexer.writer import BulkWriter

log = logging.getLogger(__name__)

LOAD_SETTINGS = {"index": {"refresh_interval": "-1", "auto_expand_replicas": "false",
                           "number_of_replicas": 0}}
"""During the load: no refreshes, no replicas (the alias migration recipe)."""
LIVE_SETTINGS = {"index": {"refresh_interval": None, "auto_expand_replicas": "0-1"}}


@dataclass(frozen=True)
class BuildOptions:
    """What to build and how strict to be."""

    products: tuple[Path, ...]
    brand_keywords: tuple[Path, ...] = ()
    max_reject_ratio: float = 0.05
    allow_failures: int = 0
    reject_dir: Path | None = None
    # sentence-transformers sorts each call's texts by length, so larger calls pad less; on the
    # 10k sample 1024 gave 213 docs/s vs 197 at 256 (single runs on a noisy machine)
    batch_size: int = 1024
    progress: bool = True
    embed_cache: bool = True


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
    phases: dict[str, float] = field(default_factory=dict)
    """Wall seconds per build step, in order: where a slow build spends its time."""

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time one build step into `phases`."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - started

    @property
    def docs_per_s(self) -> float:
        """Accepted products per wall-clock second, end to end."""
        return self.accepted / self.seconds if self.seconds else 0.0


def _batched(items: Iterable[Product], size: int) -> Iterator[list[Product]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


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


def _load_products(es: Elasticsearch, embedder: Embedder, settings: Settings, options: BuildOptions,
                   index: str, log_: catalog.RejectLog, report: BuildReport) -> tuple[list[str], np.ndarray]:
    total = catalog.count_rows(options.products) if options.progress else None
    cache = EmbeddingCache(settings.embedding_cache_path, embedder.fingerprint, embedder.dims) \
        if options.embed_cache else None
    writer = BulkWriter(es, index)
    now = datetime.now(UTC)
    chunk = settings.bulk_chunk_docs
    ids: list[str] = []
    blocks: list[np.ndarray] = []
    bar = tqdm(total=total, unit="doc", desc="indexing", disable=not options.progress, smoothing=0.1)
    try:
        batches = _batched(catalog.products(options.products, log_), options.batch_size)
        for number, batch in enumerate(batches):
            texts = [embedder.readable(document_text(p, settings.embed_template)) for p in batch]
            readable = [i for i, text in enumerate(texts) if text]
            writer.wait_idle()  # the model runs alone (see indexer.writer)
            started = time.perf_counter()
            vectors = embed_cached(embedder, cache, [texts[i] for i in readable])
            report.embed_seconds += time.perf_counter() - started
            by_row: dict[int, np.ndarray] = dict(zip(readable, vectors, strict=True))
            for start in range(0, len(batch), chunk):
                part = range(start, min(start + chunk, len(batch)))
                writer.put([(batch[i].id, product_doc(batch[i], by_row.get(i), now)) for i in part],
                           number, last=part.stop == len(batch))
            ids.extend(batch[i].id for i in readable)
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
    report.failures.extend(bulk.failures)
    matrix = np.vstack(blocks) if blocks else np.zeros((0, embedder.dims), dtype=np.float32)
    if bulk.failures:  # refused documents must not linger in the vector replica either
        refused = {f.id for f in bulk.failures}
        keep = [i for i, pid in enumerate(ids) if pid not in refused]
        ids, matrix = [ids[i] for i in keep], matrix[keep]
    return ids, matrix


def _check_rejects(log_: catalog.RejectLog, options: BuildOptions, what: str) -> None:
    if log_.accepted == 0:
        raise BuildError(f"no usable {what}: {log_.rows} rows read, all rejected"
                         + (f" (first: {log_.rejects[0].describe()})" if log_.rejects else ""))
    if log_.ratio > options.max_reject_ratio:
        raise BuildError(f"{len(log_.rejects)} of {log_.rows} {what} rows rejected "
                         f"({log_.ratio:.1%} > --max-reject-ratio {options.max_reject_ratio:.1%}); "
                         f"first: {log_.rejects[0].describe()}")


def _load_brand_keywords(es: Elasticsearch, settings: Settings, options: BuildOptions, stamp: str,
                         created: list[str], report: BuildReport) -> str:
    bk_index = index_name(settings.brand_keywords_alias, stamp)
    _create_index(es, bk_index, mappings.load(settings.mappings_dir, "brand_keywords"))
    created.append(bk_index)
    bk_log = catalog.RejectLog()
    now = datetime.now(UTC)
    bk = bulk_write(es, bk_index, ((k.id, brand_keyword_doc(k, now))
                                   for k in catalog.brand_keywords(options.brand_keywords, bk_log)))
    if options.reject_dir and bk_log.rejects:
        bk_log.write(options.reject_dir / f"{bk_index}-rejects.jsonl")
    _check_rejects(bk_log, options, "brand keyword")
    if bk.failures:
        raise BuildError(f"Elasticsearch refused {len(bk.failures)} brand keywords; "
                         f"first: {bk.failures[0].id}: {bk.failures[0].reason}")
    report.rejects.extend(bk_log.rejects)
    report.brand_keywords_index, report.brand_keywords = bk_index, bk.written
    return bk_index


def build(settings: Settings, es: Elasticsearch, embedder: Embedder, options: BuildOptions) -> BuildReport:
    """Build, verify and publish a new version of the product (and brand-keyword) indices.

    Raises:
        BuildError: rejects over the limit, refused documents over `allow_failures`, or a failed
            verification; everything this build created has been removed and the aliases are as
            they were.
        EngineError: Elasticsearch failed; same guarantee.

    """
    check_template(settings.embed_template)
    if not options.products:
        raise BuildError("no product sources given")
    for path in (*options.products, *options.brand_keywords):  # fail before creating anything
        check_source(Path(path))
    started = time.perf_counter()
    stamp = new_stamp()
    products_index = index_name(settings.products_alias, stamp)
    report = BuildReport(version=stamp, products_index=products_index)
    snapshot_dir = settings.vectors_dir / products_index
    created: list[str] = []
    ping(es)
    try:
        body = mappings.load(settings.mappings_dir, "products", dims=embedder.dims)
        _create_index(es, products_index, body)
        created.append(products_index)
        product_log = catalog.RejectLog()
        with report.phase("load products"):
            ids, matrix = _load_products(es, embedder, settings, options, products_index, product_log, report)
        report.rows, report.accepted = product_log.rows, product_log.accepted
        report.rejects = list(product_log.rejects)
        if options.reject_dir and product_log.rejects:
            report.reject_report = product_log.write(options.reject_dir / f"{products_index}-rejects.jsonl")
        _check_rejects(product_log, options, "product")
        if len(report.failures) > options.allow_failures:
            first = report.failures[0]
            raise BuildError(f"Elasticsearch refused {len(report.failures)} documents (allowed: "
                             f"{options.allow_failures}); first: {first.id}: {first.reason}")
        report.accepted -= len(report.failures)
        aliases = {settings.products_alias: products_index}
        if options.brand_keywords:
            with report.phase("brand keywords"):
                aliases[settings.brand_keywords_alias] = _load_brand_keywords(es, settings, options, stamp,
                                                                              created, report)
        with report.phase("refresh"):
            for name in created:
                _finish_index(es, name)
        with report.phase("vector snapshot"):
            vectors = VectorIndex.build(ids, matrix, version=products_index, model=embedder.model_id)
            report.snapshot = vectors.save(snapshot_dir)
        report.vectors = vectors.count
        with report.phase("verify"):
            verify_products(es, products_index, vectors, expected=report.accepted)
        previous = swap_aliases(es, aliases)
        report.previous = previous[settings.products_alias]
    except (IndexerError, KeyboardInterrupt):
        _discard(es, created, snapshot_dir)
        raise
    report.seconds = time.perf_counter() - started
    return report


def _discard(es: Elasticsearch, indices: list[str], snapshot_dir: Path) -> None:
    """Remove a failed build's indices and snapshot; the live version never pointed at them."""
    for name in indices:
        try:
            es.indices.delete(index=name, ignore_unavailable=True)
        except Exception as exc:  # best effort: ES may be the thing that failed
            log.warning("could not delete failed build index %s: %s", name, exc)
    shutil.rmtree(snapshot_dir, ignore_errors=True)
