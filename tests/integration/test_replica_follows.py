"""A running API's replica follows the index on its own: the sync thread and the alias checks at real intervals.

Elsewhere tests set both intervals to 0 and sync by hand; here nothing calls `sync()` and the
alias is re-read only when its interval is due, so a change reaches the semantic leg only if
the background machinery works. Waits poll with a deadline (`tests.waiting.poll`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from indexer.build.changes import upsert
from indexer.build.pipeline import BuildOptions, build
from indexer.sample import generate
from search_api.core.settings import ApiSettings
from search_api.http.app import create_app
from search_api.retrieval.runtime import Runtime
from tests.waiting import poll

pytestmark = pytest.mark.integration

INTERVAL_S = 0.3
"""Both the sync and the alias-check interval of the running API."""
WITHIN_S = 15.0
"""How long a change may take to show: many intervals, for a busy shared 2-core machine."""


def semantic_ids(client: FlaskClient, q: str) -> tuple[str, list[str]]:
    """The index version and the ids the semantic leg alone answers `q` with."""
    body = client.get("/search", query_string={"q": q, "mode": "semantic", "size": 5}).get_json()
    return body["meta"]["index_version"], [hit["id"] for hit in body["results"]]


def product_file(path: Path, product_id: str, title: str) -> Path:
    path.write_text(json.dumps({"id": product_id, "title": title}) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def following(isolated: ApiSettings, model, es) -> Iterator[tuple[ApiSettings, Runtime]]:  # type: ignore[no-untyped-def]
    """A live 80-product build and a runtime that follows it every `INTERVAL_S` (stopped afterwards)."""
    catalog = generate.write(isolated.vectors_dir.parent / "catalog-a", 80, seed=21)
    build(isolated, es, model, BuildOptions(products=(catalog["products"],), progress=False))
    settings = isolated.with_(sync_seconds=INTERVAL_S, alias_check_seconds=INTERVAL_S)
    rt = Runtime(settings, embedder=model)  # its own client: `close` closes it, not the session's
    yield settings, rt
    rt.close()


def test_upserts_and_a_new_build_reach_a_running_api_without_a_manual_sync(following, model, es, tmp_path):
    settings, rt = following
    client = create_app(runtime=rt).test_client()
    first_version, _ = semantic_ids(client, "pillow")  # loads the snapshot and starts the sync thread

    upsert(settings, es, model, [product_file(tmp_path / "one.jsonl", "LIVE-1", "Zephyrine quokka night lantern")])
    poll(lambda: "LIVE-1" in semantic_ids(client, "zephyrine quokka night lantern")[1], within=WITHIN_S,
         what="the upsert in the semantic leg")
    assert settings.vector_backend != "faiss" or rt.replica.status()["changes_applied"] >= 1  # kNN: none to apply

    catalog = generate.write(tmp_path / "catalog-b", 60, seed=22)
    rows = catalog["products"].read_text(encoding="utf-8")
    catalog["products"].write_text(rows + json.dumps({"id": "BUILD-2", "title": "Quillwort narwhal tea kettle"})
                                   + "\n", encoding="utf-8")
    report = build(settings, es, model, BuildOptions(products=(catalog["products"],), progress=False))
    assert report.products_index != first_version

    def new_build_served() -> bool:
        version, found = semantic_ids(client, "quillwort narwhal tea kettle")
        return version == report.products_index and "BUILD-2" in found

    poll(new_build_served, within=WITHIN_S, what="the new build in the semantic leg")
    assert "LIVE-1" not in semantic_ids(client, "zephyrine quokka night lantern")[1]  # not in the new catalog

    upsert(settings, es, model, [product_file(tmp_path / "two.jsonl", "LIVE-2", "Obsidian axolotl desk fountain")])
    poll(lambda: "LIVE-2" in semantic_ids(client, "obsidian axolotl desk fountain")[1], within=WITHIN_S,
         what="an upsert on the new version in the semantic leg")
