"""Fixtures of the integration tests that serve over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from indexer.build.pipeline import BuildOptions, build
from indexer.sample import generate
from search_api.core.settings import ApiSettings
from tests.conftest import drop_prefix, fresh_settings

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
