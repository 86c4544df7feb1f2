"""A rule put over HTTP to a served API (gunicorn, two workers) is live in every worker within 5 s; deleting it
restores the previous answers exactly."""

from __future__ import annotations

import http.client
import json
import time
import uuid

import pytest

from tests.serving import Served, sync_env

pytestmark = pytest.mark.integration
KEY = "served-rules-key"
LIVE_WITHIN_S = 5.0
POLL_S = 0.05


def call(port: int, method: str, route: str, body: dict | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, route, body=json.dumps(body) if body is not None else None,
                     headers={"X-API-Key": KEY, "Content-Type": "application/json", "Connection": "close"})
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read() or b"null")
    finally:
        conn.close()


def answers(workers: dict, q: str) -> dict[int, list[tuple[str, float]]]:
    out = {}
    for pid, conn in workers.items():
        status, body = conn.get("/search", q=q, size=10)
        assert status == 200, body
        out[pid] = [(r["id"], r["score"]) for r in body["results"]]
    return out


def until(condition, what: str) -> float:
    """Seconds until `condition()` held, polling; fails after LIVE_WITHIN_S."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < LIVE_WITHIN_S, f"{what} not within {LIVE_WITHIN_S} s"
        time.sleep(POLL_S)
    return time.monotonic() - started


def test_a_pin_is_live_in_every_worker_within_seconds_and_deleting_it_restores_the_answers(
        serving_catalog, es, tmp_path):
    rules_prefix = f"test-rules-{uuid.uuid4().hex[:8]}"
    served = Served(serving_catalog, tmp_path / "serve.log", "--workers", "2", **sync_env(serving_catalog),
                    STORESEARCH_API_KEY=KEY, STORESEARCH_RULES_PREFIX=rules_prefix)
    try:
        with served.pinned(2) as workers:
            before = answers(workers, "pillow")
            assert len(set(map(tuple, before.values()))) == 1 and next(iter(before.values()))
            shown = {doc_id for doc_id, _ in next(iter(before.values()))}
            outsider = next(h["_id"] for h in es.search(
                index=serving_catalog.products_alias, size=50, query={"bool": {
                    "filter": [{"term": {"status": "on_sale"}}], "must_not": [{"terms": {"id": sorted(shown)}}]}},
            )["hits"]["hits"])
            status, body = call(served.port, "PUT", "/rules/pin-it",
                                {"kind": "pin", "query": "pillow", "position": 2, "products": [outsider]})
            assert status == 201, body
            until(lambda: all(ranked[1][0] == outsider for ranked in answers(workers, "pillow").values()),
                  "the pin in every worker")
            status, body = call(served.port, "DELETE", "/rules/pin-it")
            assert status == 200, body
            until(lambda: answers(workers, "pillow") == before, "the previous answers in every worker")
    finally:
        assert served.stop() == 0, served.output()
        es.indices.delete(index=f"{rules_prefix}-rules", ignore_unavailable=True)
