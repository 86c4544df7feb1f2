"""Shared fixtures: a real Elasticsearch node, the real model, and one sample build per session.

A test that cannot run without a service or a data set says so through `need`: in CI (CI=true)
the missing dependency fails the run; elsewhere the test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer.build.pipeline import BuildOptions, BuildReport, build
from indexer.core.errors import EngineError
from indexer.core.es import make_client, ping
from indexer.embedding.embedder import SentenceTransformerEmbedder
from search_api.core.settings import ApiSettings

SAMPLE_SIZE = 2000
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    # A shell starts a background job (`cmd &`) with SIGINT ignored, and an ignored signal stays
    # ignored in every process a test starts: the Ctrl-C build test's SIGINT would then do nothing.
    # A handler is reset to the default at exec, so the commands tests start get Ctrl-C back.
    signal.signal(signal.SIGINT, signal.default_int_handler)


def need(condition: object, reason: str) -> None:
    """Go on only if `condition` holds: else fail in CI (a missing dependency is a defect there), skip elsewhere."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"missing in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def es_url() -> str:
    return os.environ.get("ES_URL", "http://127.0.0.1:9200")


@pytest.fixture(scope="session")
def es(es_url: str) -> Iterator[Elasticsearch]:
    client = make_client(ApiSettings(es_url=es_url))
    try:
        ping(client)
        failure = ""
    except EngineError as exc:
        failure = str(exc)
    need(not failure, f"Elasticsearch not reachable at {es_url} (start it with scripts/es-local start): {failure}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def model() -> SentenceTransformerEmbedder:
    """The real default model on torch, loaded once (threads capped for the shared cores).

    Sentence-transformers itself, whatever STORESEARCH_ENCODER says: the reference the ONNX encoder
    is compared with (tests/unit/test_onnx_encoder.py), and no export per test session.
    """
    return SentenceTransformerEmbedder.from_settings(ApiSettings())


VECTOR_BACKEND = os.environ.get("STORESEARCH_VECTOR_BACKEND", "").strip() or "faiss"
"""The suite runs on either vector backend (CI runs it with both); backend tests parametrize over both."""


def fresh_settings(es_url: str, root: Path) -> ApiSettings:
    """ApiSettings with a unique index prefix and vector directory, for one test's isolation."""
    return ApiSettings(es_url=es_url, prefix=f"test-{uuid.uuid4().hex[:10]}", vectors_dir=root / "vectors",
                       cache_dir=root / "cache", alias_check_seconds=0.0, sync_seconds=0.0,
                       lock_stale_seconds=5.0, query_log=False,  # tests of the log turn it on
                       vector_backend=VECTOR_BACKEND)


def drop_prefix(es: Elasticsearch, prefix: str) -> None:
    """Delete what a test made under its prefix: indices (their aliases with them) and index templates."""
    es.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True)
    es.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-*")


@pytest.fixture
def isolated(es: Elasticsearch, es_url: str, tmp_path: Path) -> Iterator[ApiSettings]:
    settings = fresh_settings(es_url, tmp_path)
    yield settings
    drop_prefix(es, settings.prefix)


@pytest.fixture(scope="module")
def isolated_module(es: Elasticsearch, es_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiSettings]:
    settings = fresh_settings(es_url, tmp_path_factory.mktemp("module"))
    yield settings
    drop_prefix(es, settings.prefix)


@dataclass(frozen=True)
class SampleIndex:
    settings: ApiSettings
    report: BuildReport
    products: Path
    brand_keywords: Path


@pytest.fixture(scope="session")
def sample_index(es: Elasticsearch, es_url: str, model: SentenceTransformerEmbedder,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleIndex]:
    """A sample catalog built once through the real pipeline; read-only for tests."""
    from indexer.sample import generate

    root = tmp_path_factory.mktemp("sample")
    paths = generate.write(root / "catalog", SAMPLE_SIZE, seed=7)
    settings = fresh_settings(es_url, root)
    report = build(settings, es, model, BuildOptions(products=(paths["products"],),
                                                     brand_keywords=(paths["brand_keywords"],),
                                                     progress=False))
    yield SampleIndex(settings, report, paths["products"], paths["brand_keywords"])
    drop_prefix(es, settings.prefix)
    shutil.rmtree(root, ignore_errors=True)
