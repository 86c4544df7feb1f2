"""Many API nodes behind nothing: three `search-api serve` processes converge on the same answers.

Each process keeps its own FAISS replica, so with the FAISS backend "the same results everywhere"
holds only because each one follows the index by itself: the sync thread applies the change log
(upserts and tombstones) every `STORESEARCH_SYNC_SECONDS`, and the alias is re-read every
`STORESEARCH_ALIAS_CHECK_SECONDS` (a new build loads its snapshot). The test talks to each process
directly, changes the index behind their backs (upsert, delete, a full build and its alias swap)
and polls until every one answers what the index now says, and all three answer alike.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from indexer.build.changes import delete, upsert
from indexer.build.pipeline import BuildOptions, build
from indexer.sample import generate
from search_api.core.settings import ApiSettings
from tests.conftest import drop_prefix, fresh_settings
from tests.serving import Served, sync_env
from tests.waiting import poll

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NODES = 3
INTERVAL_S = 0.5
"""The sync and alias-check interval of every served process."""
WITHIN_S = 30.0
"""How long the three may take to agree: many intervals, for a busy shared 2-core machine."""
QUERIES = ("pillow", "抱枕", "shoes", "Zephyrine quokka night lantern", "Quillwort narwhal tea kettle")
MODES = ("hybrid", "semantic", "keyword")


@pytest.fixture(scope="module")
def catalog(es, es_url, model, tmp_path_factory) -> Iterator[ApiSettings]:  # type: ignore[no-untyped-def]
    """A live 200-product build, followed every `INTERVAL_S` by whoever serves it."""
    root = tmp_path_factory.mktemp("many")
    paths = generate.write(root / "catalog", 200, seed=31)
    settings = fresh_settings(es_url, root).with_(sync_seconds=INTERVAL_S, alias_check_seconds=INTERVAL_S)
    build(settings, es, model, BuildOptions(products=(paths["products"],), progress=False))
    yield settings
    drop_prefix(es, settings.prefix)


@pytest.fixture(scope="module")
def nodes(catalog: ApiSettings, tmp_path_factory) -> Iterator[list[Served]]:  # type: ignore[no-untyped-def]
    """Three independent servers (one gunicorn worker each) on their own ports, started side by side."""
    logs = tmp_path_factory.mktemp("logs")

    def serve(i: int) -> Served:
        return Served(catalog, logs / f"node{i}.log", "--workers", "1", "--threads", "2",
                      STORESEARCH_QUERY_LOG="false", **sync_env(catalog))

    with ThreadPoolExecutor(NODES) as pool:
        started = [pool.submit(serve, i) for i in range(NODES)]
    servers = [f.result() for f in started if f.exception() is None]
    try:
        failed = [f.exception() for f in started if f.exception() is not None]
        assert not failed, f"a server did not start: {failed[0]}"
        assert len({s.port for s in servers}) == NODES
        yield servers
    finally:
        for server in servers:
            server.stop()


def answers(server: Served) -> dict[tuple[str, str], tuple[str, list[str]]]:
    """(query, mode) → (index version, result ids) as one server answers them now."""
    out = {}
    for q in QUERIES:
        for mode in MODES:
            status, body = server.get("/search", q=q, mode=mode, size=10)
            assert status == 200, (server.port, q, mode, body)
            out[(q, mode)] = (body["meta"]["index_version"], [hit["id"] for hit in body["results"]])
    return out


def converged(nodes: list[Served], holds) -> dict:  # type: ignore[no-untyped-def]
    """Poll until all servers give identical answers for which `holds(answers)` is true; those answers."""
    def agree() -> dict | None:
        seen = [answers(server) for server in nodes]
        if all(a == seen[0] for a in seen[1:]) and holds(seen[0]):
            return seen[0]
        return None

    started = time.monotonic()
    found = poll(agree, within=WITHIN_S, what="the three API nodes agreeing", every=0.3)
    print(f"converged in {time.monotonic() - started:.1f} s")  # shown with -s: the figure docs/capacity.md cites
    return found


def product_file(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def ids(found: dict, q: str, mode: str) -> list[str]:
    return found[(q, mode)][1]


def test_three_api_nodes_converge_after_upserts_deletes_and_an_alias_swap(nodes, catalog, es, model, tmp_path):
    first = converged(nodes, lambda found: True)
    version = first[("pillow", "hybrid")][0]
    assert all(v == version for v, _ in first.values())
    assert ids(first, "pillow", "hybrid"), "the sample answers 'pillow'"

    # Upserts: a new product and a changed title reach every process's semantic leg (its FAISS copy).
    upsert(catalog, es, model, [product_file(tmp_path / "up.jsonl", [
        {"id": "MANY-1", "title": "Zephyrine quokka night lantern"},
        {"id": "MANY-2", "title": "Zephyrine quokka night lantern refill"}])])
    after_upsert = converged(nodes, lambda found: {"MANY-1", "MANY-2"} <= set(
        ids(found, "Zephyrine quokka night lantern", "semantic")[:2]))
    assert "MANY-1" in ids(after_upsert, "Zephyrine quokka night lantern", "keyword")

    # Deletes: a tombstone hides the product from every leg of every process.
    gone = ids(after_upsert, "pillow", "semantic")[0]
    delete(catalog, es, ["MANY-2", gone])
    after_delete = converged(nodes, lambda found: all(
        pid not in ids(found, q, m) for q in QUERIES for m in MODES for pid in ("MANY-2", gone)))
    assert "MANY-1" in ids(after_delete, "Zephyrine quokka night lantern", "semantic")

    # A new build swaps the alias: every process loads the new snapshot and answers from it.
    paths = generate.write(tmp_path / "catalog-b", 150, seed=32)
    rows = paths["products"].read_text(encoding="utf-8")
    paths["products"].write_text(rows + json.dumps({"id": "MANY-3", "title": "Quillwort narwhal tea kettle"}) + "\n",
                                 encoding="utf-8")
    report = build(catalog, es, model, BuildOptions(products=(paths["products"],), progress=False))
    assert report.products_index != version
    swapped = converged(nodes, lambda found: all(v == report.products_index for v, _ in found.values())
                        and "MANY-3" in ids(found, "Quillwort narwhal tea kettle", "semantic")[:1])
    assert "MANY-1" not in ids(swapped, "Zephyrine quokka night lantern", "semantic"), "not in the new catalog"
    for server in nodes:
        status, health = server.get("/healthz")
        assert status == 200 and health["replica"]["version"] == report.products_index, health
