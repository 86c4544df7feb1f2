"""Access control and rate limits over HTTP: 401 / 403 naming the scope / 429 with Retry-After.

The app's Elasticsearch is a closed port: what is checked here is answered before it is asked
(a route that gets past the checks answers 503, or 400 for a search without `q`).
"""

from __future__ import annotations

import pytest

from search_api.cli import main
from search_api.core.credentials import hash_key
from search_api.core.rates import parse_rate
from search_api.core.settings import ApiSettings
from search_api.http import schemas
from search_api.http.app import create_app
from search_api.http.contract import ROUTES, openapi
from tests.waiting import poll

FEED, READER, OPS = "feed-key", "reader-key", "ops-key"
KEYS_SEEN_S = 3.0
"""The key ring looks at its file at most once a second; the rest is slack for a busy machine."""


def offline_app(**changes):
    settings = ApiSettings(es_url="http://127.0.0.1:1", vectors_dir="/nonexistent", sync_seconds=0,
                           alias_check_seconds=0, request_timeout_s=0.5, **changes)
    return create_app(settings)


def write_keys(path, *entries):
    path.write_text("".join(f'{{"id": "{i}", "hash": "{hash_key(k)}", "scopes": {list(s)!r}}}\n'.replace("'", '"')
                            for i, k, s in entries))
    return path


@pytest.fixture
def keys_file(tmp_path):
    return write_keys(tmp_path / "keys.jsonl", ("feed", FEED, ["events:write"]), ("reader", READER, ["profiles:read"]),
                      ("ops", OPS, ["admin"]))


@pytest.fixture
def client(keys_file):
    return offline_app(api_keys_file=keys_file, api_key="legacy").test_client()


def error(response, status):
    assert response.status_code == status, response.get_json()
    return schemas.ErrorBody.model_validate(response.get_json()).error


@pytest.mark.parametrize(("method", "path", "scope"), [
    ("post", "/events", "events:write"), ("get", "/users/u1/profile", "profiles:read"), ("get", "/audits", "audits"),
    ("post", "/audits", "audits"), ("get", "/audits/compare?base=a&head=b", "audits"), ("get", "/audits/a1", "audits"),
    ("get", "/audits/a1/report", "audits")])
def test_each_protected_route_needs_its_scope(client, method, path, scope):
    call = getattr(client, method)
    body = {"json": []} if method == "post" else {}
    missing = error(call(path, **body), 401)
    assert missing.code == "unauthorized" and missing.field == "X-API-Key" and "missing" in missing.message
    assert error(call(path, headers={"X-API-Key": "guess"}, **body), 401).message == "wrong API key"
    holders = {"events:write": FEED, "profiles:read": READER, "audits": None}
    wrong_key = READER if scope != "profiles:read" else FEED
    forbidden = error(call(path, headers={"X-API-Key": wrong_key}, **body), 403)
    assert forbidden.code == "forbidden" and forbidden.scope == scope and scope in forbidden.message
    for key in filter(None, (holders[scope], OPS, "legacy")):  # the scope, admin, the legacy key: past the check
        for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
            assert call(path, headers=headers, **body).status_code not in (401, 403)


def test_without_any_configured_key_protected_routes_refuse_everyone():
    client = offline_app().test_client()
    refused = error(client.post("/events", json=[], headers={"X-API-Key": "anything"}), 401)
    assert "none is configured" in refused.message and "STORESEARCH_API_KEYS_FILE" in refused.message


def test_a_rotated_key_works_and_the_old_one_fails_without_restart(client, keys_file, capsys):
    old = {"X-API-Key": FEED}
    assert client.post("/events", json=[], headers=old).status_code == 200
    assert main(["keys", "rotate", "--id", "feed", "--file", str(keys_file)]) == 0
    new = {"X-API-Key": capsys.readouterr().out.strip()}
    poll(lambda: client.post("/events", json=[], headers=new).status_code == 200, within=KEYS_SEEN_S,
         what="the rotated key accepted", every=0.1)
    assert error(client.post("/events", json=[], headers=old), 401).message == "wrong API key"
    assert main(["keys", "revoke", "--id", "feed", "--file", str(keys_file)]) == 0
    poll(lambda: client.post("/events", json=[], headers=new).status_code == 401, within=KEYS_SEEN_S,
         what="the revoked key refused", every=0.1)


def test_a_broken_keys_file_stops_the_app_at_start(tmp_path):
    from indexer.index_format import ConfigError

    (tmp_path / "keys.jsonl").write_text('{"id": "x", "hash": "plain-key", "scopes": ["admin"]}\n')
    with pytest.raises(ConfigError, match="keys.jsonl:1: hash"):
        offline_app(api_keys_file=tmp_path / "keys.jsonl")


def limited(response, seconds):
    body = error(response, 429)
    assert body.code == "rate_limited" and response.get_json()["error"]["retry_after"] == seconds
    assert response.headers["Retry-After"] == str(seconds)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_anonymous_search_is_limited_per_address():
    client = offline_app(rate_search="1/s burst 2").test_client()
    assert [client.get("/search").status_code for _ in range(2)] == [400, 400]  # past the limit, then no q
    limited(client.get("/search"), 1)
    limited(client.post("/search", json={"q": "x"}), 1)  # GET and POST share the class
    assert client.get("/search", headers={"X-API-Key": "guess"}).status_code == 429  # an unknown key is anonymous
    assert client.get("/search", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 429  # not trusted
    assert client.get("/search", environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 400
    assert client.options("/search").status_code == 200  # preflights are not limited
    assert client.get("/healthz").status_code == 200  # nor other routes


def test_suggestions_have_their_own_buckets():
    client = offline_app(rate_search="1/m burst 1", rate_suggest="1/m burst 2").test_client()
    assert client.get("/search").status_code == 400  # no q: answered, and its one token spent
    assert [client.get("/suggest").status_code for _ in range(3)] == [400, 400, 429]  # typing never eats /search's
    assert client.get("/search").status_code == 429


def test_keyed_callers_are_limited_per_key(keys_file):
    client = offline_app(api_keys_file=keys_file, rate_search="1/m burst 1", rate_search_keyed="1/m burst 1",
                         rate_events_keyed="off").test_client()
    assert client.get("/search", headers={"X-API-Key": READER}).status_code == 400
    limited(client.get("/search", headers={"X-API-Key": READER}), 60)
    assert client.get("/search", headers={"X-API-Key": OPS}).status_code == 400  # another key, another bucket
    assert client.get("/search").status_code == 400  # the address's own bucket is untouched
    assert all(client.post("/events", json=[], headers={"X-API-Key": FEED}).status_code == 200 for _ in range(5))


def test_trusted_proxies_make_forwarded_addresses_separate_callers():
    client = offline_app(rate_search="1/m burst 1", trusted_proxies=1).test_client()
    for address in ("198.51.100.1", "198.51.100.2"):
        assert client.get("/search", headers={"X-Forwarded-For": address}).status_code == 400
    limited(client.get("/search", headers={"X-Forwarded-For": "198.51.100.1"}), 60)
    assert client.get("/search", headers={"X-Forwarded-For": "9.9.9.9, 198.51.100.1"}).status_code == 429


def test_key_guessing_on_events_is_limited_per_address(keys_file):
    client = offline_app(api_keys_file=keys_file, rate_events="1/h burst 2").test_client()
    assert [client.post("/events", json=[], headers={"X-API-Key": g}).status_code for g in ("a", "b")] == [401, 401]
    limited(client.post("/events", json=[], headers={"X-API-Key": "c"}), 3600)
    assert client.post("/events", json=[], headers={"X-API-Key": FEED}).status_code == 200  # a real key: its own


def test_a_429_is_readable_cross_origin():
    client = offline_app(rate_search="1/m burst 1", cors_origins=("https://shop.example",)).test_client()
    client.get("/search")
    response = client.get("/search", headers={"Origin": "https://shop.example"})
    assert response.status_code == 429 and "Retry-After" in response.headers["Access-Control-Expose-Headers"]


def test_default_limits_let_the_benchmarks_through():
    settings = ApiSettings()
    assert parse_rate(settings.rate_search).per_second >= 300  # bench/load.py: ~300 req/s from one loopback address
    client = offline_app().test_client()
    assert all(client.get("/search").status_code == 400 for _ in range(300))


def test_the_contract_documents_403_and_429():
    doc = openapi()
    for route in ROUTES:
        answers = doc["paths"][route.path][route.method]["responses"]
        assert ("403" in answers) == bool(route.scope), route.path
        if route.scope:
            assert route.scope in doc["paths"][route.path][route.method]["description"]
    for path, method in (("/search", "get"), ("/search", "post"), ("/events", "post")):
        assert doc["paths"][path][method]["responses"]["429"]["headers"]["Retry-After"]["schema"]["minimum"] == 1
