"""A build's suggestion index: the search box's suggestions for this version of the catalog.

Built from the catalog sources after the products (one more read of the files: validation is the
same, rejects were already reported by the product load), written in one go like the brand
keywords, and swapped with the products in the same alias call. Live upserts and deletes do not
touch it: a suggestion aggregates many products, so one product's change moves no suggestion
until the next build (a hidden or deleted product's title is never a suggestion of its own).
"""

from __future__ import annotations

from typing import NamedTuple

from elasticsearch import Elasticsearch

from indexer.build.indexes import create_index
from indexer.build.options import BuildOptions
from indexer.catalog import load
from indexer.core.config import Settings
from indexer.core.errors import BuildError, VerificationError
from indexer.core.es import engine_errors
from indexer.format import mappings
from indexer.format.suggestions import SuggestionSet
from indexer.store.bulk import bulk_write


class SuggestionsLoaded(NamedTuple):
    """What loading the suggestions produced, for the report."""

    index: str
    written: int


def load_suggestions(es: Elasticsearch, settings: Settings, options: BuildOptions, index: str) -> SuggestionsLoaded:
    """(Re)create `index` and write the suggestions of the catalog sources into it.

    Raises:
        BuildError: Elasticsearch refused a suggestion.

    """
    with engine_errors(f"recreating {index}"):  # derived and rebuilt whole: a resumed build reloads it
        es.indices.delete(index=index, ignore_unavailable=True)
    create_index(es, index, mappings.load(settings.mappings_dir, "suggestions"))
    found = SuggestionSet()
    for product in load.products(options.products, load.RejectLog()):
        found.add_product(product)
    for keyword in load.brand_keywords(options.brand_keywords, load.RejectLog()):
        found.add_brand_keyword(keyword)
    report = bulk_write(es, index, found.documents())
    if report.failures:
        raise BuildError(f"Elasticsearch refused {len(report.failures)} suggestions; "
                         f"first: {report.failures[0].id}: {report.failures[0].reason}")
    return SuggestionsLoaded(index, report.written)


def verify_suggestions(es: Elasticsearch, index: str, *, expected: int) -> None:
    """The refreshed index holds every suggestion written.

    Raises:
        VerificationError: it holds another number.

    """
    with engine_errors(f"verifying {index}"):
        count = int(es.count(index=index)["count"])
    if count != expected:
        raise VerificationError(f"{index} holds {count} suggestions, expected {expected}")
