"""Synonyms reloaded without a restart: the admin endpoint, and every gunicorn worker watching the file."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

import pytest

from search_api.http.app import create_app
from search_api.retrieval.runtime import Runtime
from tests.serving import Served, sync_env

pytestmark = pytest.mark.integration

KEY = "synonyms-admin-key"
CHECK_S = 0.5
MARGIN_S = 5.0
"""Slack over the check interval on a busy shared machine (a worker that never re-reads still fails)."""


def test_the_reload_endpoint_applies_a_good_file_and_refuses_a_bad_one(sample_index, model, es, tmp_path):
    path = tmp_path / "syn.txt"
    path.write_text("sofa, couch\n", encoding="utf-8")
    settings = sample_index.settings.with_(synonyms_file=path, synonyms_check_seconds=0, api_key=KEY)
    client = create_app(runtime=Runtime(settings, embedder=model, es=es)).test_client()

    def found(q: str) -> int:
        return len(client.get("/search", query_string={"q": q, "mode": "keyword"}).get_json()["results"])

    assert found("couch") and not found("bolster")
    assert client.post("/admin/synonyms/reload").status_code == 401
    path.write_text("sofa, couch\nbolster, pillow\nbroken\n", encoding="utf-8")
    refused = client.post("/admin/synonyms/reload", headers={"X-API-Key": KEY})
    error = refused.get_json()["error"]
    assert refused.status_code == 422 and error["code"] == "invalid_synonyms" and error["field"] == "synonyms"
    assert f"{path}:3: an equivalence needs two different terms" in error["message"]
    assert found("couch") and not found("bolster")  # the previous set, whole: not the good line before the bad one
    path.write_text("sofa, couch\nbolster, pillow\n", encoding="utf-8")
    applied = client.post("/admin/synonyms/reload", headers={"X-API-Key": KEY})
    status = applied.get_json()
    assert applied.status_code == 200 and status["file_rules"] == 2 and status["file"] == "syn.txt"
    assert status["rules"] == 2 + status["brand_rules"] and status["brand_rules"] > 300  # one per sample brand at least
    assert found("bolster")


def _post(port: int, route: str, key: str) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", route, headers={"X-API-Key": key, "Connection": "close"})
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read() or b"null")
    finally:
        conn.close()


def test_every_gunicorn_worker_rereads_a_changed_file_and_keeps_the_last_good_set(serving_catalog, tmp_path):
    path = tmp_path / "syn.txt"
    path.write_text("# nothing yet\n", encoding="utf-8")
    server = Served(serving_catalog, tmp_path / "serve.log", "--workers", "2", STORESEARCH_SYNONYMS=str(path),
                    STORESEARCH_SYNONYMS_CHECK_SECONDS=str(CHECK_S), STORESEARCH_API_KEY=KEY,
                    **sync_env(serving_catalog))
    try:
        with server.pinned(2) as workers:
            assert all(not c.get("/search", q="bolster", mode="keyword")[1]["results"] for c in workers.values())
            path.write_text("bolster, pillow\n", encoding="utf-8")
            written, seen = time.monotonic(), {}
            while len(seen) < len(workers) and time.monotonic() - written < CHECK_S + MARGIN_S:
                for pid, conn in workers.items():
                    if pid not in seen and conn.get("/search", q="bolster", mode="keyword")[1]["results"]:
                        seen[pid] = time.monotonic() - written
                time.sleep(0.05)
            assert set(seen) == set(workers), f"workers {set(workers) - set(seen)} never applied the new rule"
            path.write_text("bolster, pillow\nbroken\n", encoding="utf-8")
            written, refused = time.monotonic(), set()
            while len(refused) < len(workers) and time.monotonic() - written < CHECK_S + MARGIN_S:
                refused |= {pid for pid, c in workers.items()
                            if c.get("/healthz")[1].get("synonyms", {}).get("file_refused")}
                time.sleep(0.05)
            assert refused == set(workers), server.output()[-3000:]
            for conn in workers.values():  # the last good set stays in force
                assert conn.get("/search", q="bolster", mode="keyword")[1]["results"]
        status, body = _post(server.port, "/admin/synonyms/reload", KEY)
        assert status == 422 and f"{path}:2:" in body["error"]["message"]
        assert "synonym file refused, the previous 1 file rules stay in force" in server.output()
    finally:
        server.stop()
