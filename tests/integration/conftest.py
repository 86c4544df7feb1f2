"""Fixtures of the integration tests that serve over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from indexer.build.pipeline import BuildOptions, build
from indexer.sample import generate
from search_api.core.settings import ApiSettings
from tests.conftest import SampleIndex, drop_prefix, fresh_settings

SERVING_SYNC_S = 1.0


@pytest.fixture(scope="session")
def serving_catalog(es, es_url, model, tmp_path_factory) -> Iterator[ApiSettings]:
    """A live 300-product build with brand keywords for served APIs (test_serving's upsert adds one product)."""
    root = tmp_path_factory.mktemp("serving")
    paths = generate.write(root / "catalog", 300, seed=11)
    settings = fresh_settings(es_url, root).model_copy(
        update={"sync_seconds": SERVING_SYNC_S, "alias_check_seconds": 1.0})
    build(settings, es, model, BuildOptions(products=(paths["products"],), brand_keywords=(paths["brand_keywords"],),
                                            progress=False))
    yield settings
    drop_prefix(es, settings.prefix)


@pytest.fixture(scope="module")
def sample_view(sample_index: SampleIndex, es, es_url, tmp_path_factory) -> Iterator[ApiSettings]:  # type: ignore[no-untyped-def]
    """The shared sample build under a prefix of the module's own: aliases onto the sample's indices.

    What an API on it writes (audit runs, events, their template) lands under this prefix and is
    dropped afterwards, so the sample itself stays as built.
    """
    settings = fresh_settings(es_url, tmp_path_factory.mktemp("view")).with_(
        vectors_dir=sample_index.settings.vectors_dir)
    report = sample_index.report
    added = [{"index": report.products_index, "alias": settings.products_alias},
             {"index": report.brand_keywords_index, "alias": settings.brand_keywords_alias}]
    es.indices.update_aliases(actions=[{"add": a} for a in added])
    try:
        yield settings
    finally:
        es.indices.update_aliases(actions=[{"remove": a} for a in added])
        drop_prefix(es, settings.prefix)  # after the aliases are gone: it matches nothing of the sample's
