"""The pages over HTTP without Elasticsearch: what they serve, their policy, and the dashboard's session.

The app's Elasticsearch is a closed port: a keyed route that gets past the key check answers 503,
one that does not answers 401; that difference is what the session tests read.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime

import pytest

from search_api.http import browser_session
from tests.api.test_access import OPS, READER, error, offline_app, write_keys

AUDITS_KEY = "audits-key"


@pytest.fixture
def keys_file(tmp_path):
    return write_keys(tmp_path / "keys.jsonl", ("ops", OPS, ["admin"]), ("reader", READER, ["profiles:read"]),
                      ("auditor", AUDITS_KEY, ["audits"]))


@pytest.fixture
def client(keys_file):
    return offline_app(api_keys_file=keys_file).test_client()


def sign_in(client, key):
    return client.post("/dashboard/login", data={"key": key})


@pytest.mark.parametrize("path", ["/", "/dashboard"])
def test_pages_load_only_their_own_scripts_and_styles(client, path):
    page = client.get(path)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert "http://" not in html and "https://" not in html  # nothing from a CDN
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert " style=" not in html and "<style" not in html and " on" + "click=" not in html
    for asset in re.findall(r'(?:src|href)="(/pages/static/[^"]+)"', html):
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        answer.close()


def test_the_search_page_has_its_controls(client):
    html = client.get("/").get_data(as_text=True)
    for element in ('id="q"', 'id="persona"', 'id="explain"', 'id="results"', 'id="brand-zone"', 'id="next"',
                    'id="lang"', "search.js", "suggest.js"):
        assert element in html


def test_the_dashboard_without_a_session_is_the_key_form_and_no_data(client):
    page = client.get("/dashboard")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="key"' in html
    assert "chart-top" not in html and 'id="audits"' not in html and "dashboard.js" not in html
    assert error(client.get("/analytics?days=7"), 401).code == "unauthorized"
    assert error(client.get("/audits"), 401).code == "unauthorized"


def test_a_wrong_key_goes_back_to_the_form_with_an_error(client):
    answer = sign_in(client, "nope")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/dashboard?error=key")
    assert browser_session.COOKIE not in answer.headers.get("Set-Cookie", "") or "Expires=Thu, 01 Jan 1970" in \
        answer.headers["Set-Cookie"]
    assert "not valid" in client.get("/dashboard?error=key").get_data(as_text=True)
    assert error(client.get("/audits"), 401)


def test_a_signed_in_session_reads_with_its_key_scopes_and_never_writes(client):
    answer = sign_in(client, AUDITS_KEY)
    assert answer.status_code == 303 and answer.headers["Location"] == "/dashboard"
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith(browser_session.COOKIE + "=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert AUDITS_KEY not in cookie  # the key's hash is kept, never the key
    page = client.get("/dashboard").get_data(as_text=True)
    assert "auditor" in page and "dashboard.js" in page and 'name="key"' not in page
    assert error(client.get("/audits"), 503)  # past the key check: the closed Elasticsearch port answers
    assert error(client.get("/audits/a1/report"), 503)
    assert error(client.get("/analytics?days=7"), 403).scope == "analytics"
    assert error(client.get("/users/u1/profile"), 403).scope == "profiles:read"
    assert error(client.post("/audits", json={"brands": ["b"], "keywords": ["k"]}), 401)  # reads only
    logout = client.post("/dashboard/logout")
    assert logout.status_code == 303 and logout.headers["Location"] == "/dashboard"
    assert error(client.get("/audits"), 401)
    assert 'name="key"' in client.get("/dashboard").get_data(as_text=True)


def test_a_revoked_key_signs_its_sessions_out(client, keys_file):
    sign_in(client, AUDITS_KEY)
    assert error(client.get("/audits"), 503)
    write_keys(keys_file, ("ops", OPS, ["admin"]))
    time.sleep(1.1)  # the key ring re-reads a changed file within a second
    assert error(client.get("/audits"), 401)
    assert 'name="key"' in client.get("/dashboard").get_data(as_text=True)


def test_a_session_signed_by_another_secret_is_no_session(keys_file):
    first = offline_app(api_keys_file=keys_file, cookie_signing_key="one").test_client()
    sign_in(first, AUDITS_KEY)
    cookie = first.get_cookie(browser_session.COOKIE).value
    other = offline_app(api_keys_file=keys_file, cookie_signing_key="two").test_client()
    other.set_cookie(browser_session.COOKIE, cookie)
    assert error(other.get("/audits"), 401)
    same = offline_app(api_keys_file=keys_file, cookie_signing_key="one").test_client()
    same.set_cookie(browser_session.COOKIE, cookie)
    assert error(same.get("/audits"), 503)  # a configured secret keeps sessions across restarts


def test_api_answers_without_a_session_cookie_do_not_vary_on_cookies(client):
    assert "Cookie" not in client.get("/search?q=x&size=abc").headers.get("Vary", "")


def test_personas_come_from_the_configured_file_timestamped_from_now(tmp_path, keys_file):
    path = tmp_path / "personas.jsonl"
    rows = [{"id": "persona-001", "kind": "brand", "query": "抱枕", "preferred": {"leaf": "抱枕", "brand": "棉语"},
             "history": [{"product_id": "P1", "action": "click", "age_hours": 2.0}]}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\nnot json\n", encoding="utf-8")
    before = datetime.now(UTC)
    answer = offline_app(personas_file=path).test_client().get("/personas").get_json()
    (persona,) = answer["personas"]
    assert persona["id"] == "persona-001" and persona["query"] == "抱枕"
    (event,) = persona["history"]
    age_h = (before - datetime.fromisoformat(event["ts"])).total_seconds() / 3600
    assert event["product_id"] == "P1" and event["action"] == "click" and 1.99 < age_h < 2.01
    assert offline_app().test_client().get("/personas").get_json() == {"personas": []}


def test_a_key_form_posted_from_another_site_signs_nobody_in(client):
    answer = client.post("/dashboard/login", data={"key": AUDITS_KEY}, headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/dashboard?error=origin")
    assert error(client.get("/audits"), 401)
    assert "Sign in from this page" in client.get("/dashboard?error=origin").get_data(as_text=True)
    assert sign_in(client, AUDITS_KEY).headers["Location"] == "/dashboard"  # the same form from the page itself
    assert error(client.get("/audits"), 503)
