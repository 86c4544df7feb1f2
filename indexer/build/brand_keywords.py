"""A build's brand-keyword index, and the reject limits both catalogs are held to.

The index is small: written in one go, and reloaded whole when a build resumes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from elasticsearch import Elasticsearch

from indexer.build.indexes import create_index
from indexer.build.options import BuildOptions
from indexer.catalog import load
from indexer.catalog.models import Reject
from indexer.core.config import Settings
from indexer.core.errors import BuildError
from indexer.core.es import engine_errors
from indexer.format import mappings
from indexer.format.documents import brand_keyword_doc
from indexer.store.bulk import bulk_write


def check_rejects(log: load.RejectLog, options: BuildOptions, what: str) -> None:
    """Fail the build when nothing usable was read, or more than `max_reject_ratio` was rejected."""
    if log.accepted == 0:
        raise BuildError(f"no usable {what}: {log.rows} rows read, all rejected"
                         + (f" (first: {log.rejects[0].describe()})" if log.rejects else ""))
    if log.ratio > options.max_reject_ratio:
        raise BuildError(f"{len(log.rejects)} of {log.rows} {what} rows rejected "
                         f"({log.ratio:.1%} > --max-reject-ratio {options.max_reject_ratio:.1%}); "
                         f"first: {log.rejects[0].describe()}")


class BrandKeywordsLoaded(NamedTuple):
    """What loading the brand keywords produced, for the report."""

    index: str
    written: int
    rejects: list[Reject]


def load_brand_keywords(es: Elasticsearch, settings: Settings, options: BuildOptions,
                        index: str) -> BrandKeywordsLoaded:
    """(Re)create `index` and write every valid brand keyword into it.

    Raises:
        BuildError: rejects over the limit, or any keyword refused by Elasticsearch.

    """
    with engine_errors(f"recreating {index}"):  # small: a resumed build simply reloads it
        es.indices.delete(index=index, ignore_unavailable=True)
    create_index(es, index, mappings.load(settings.mappings_dir, "brand_keywords"))
    log = load.RejectLog()
    now = datetime.now(UTC)
    bk = bulk_write(es, index, ((k.id, brand_keyword_doc(k, now))
                                for k in load.brand_keywords(options.brand_keywords, log)))
    if options.reject_dir and log.rejects:
        log.write(options.reject_dir / f"{index}-rejects.jsonl")
    check_rejects(log, options, "brand keyword")
    if bk.failures:
        raise BuildError(f"Elasticsearch refused {len(bk.failures)} brand keywords; "
                         f"first: {bk.failures[0].id}: {bk.failures[0].reason}")
    return BrandKeywordsLoaded(index, bk.written, list(log.rejects))
