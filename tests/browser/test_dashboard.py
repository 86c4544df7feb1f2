"""The dashboard in Chromium: the key form first, then the searched query counted and audit reports opened."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import shot
from tests.browser.test_search_page import search

pytestmark = [pytest.mark.integration, pytest.mark.browser]
QUERY = "抱枕"
"""A sample query that hits a brand keyword (its brand zone names the audit's pair)."""
WAIT_S = 30.0
"""The query log is written asynchronously and refreshed every second; an audit of one cell takes well under this."""


def _audit_done(site, pair: dict) -> str:
    status, started = site.api("POST", "/audits", {"pairs": [pair], "top_k": 10}, key=True)
    assert status == 202, started
    deadline = time.monotonic() + WAIT_S
    while (run := site.api("GET", f"/audits/{started['id']}", key=True)[1])["status"] == "running":
        assert time.monotonic() < deadline, run
        time.sleep(0.3)
    assert run["status"] == "done", run
    return started["id"]


def test_without_a_key_the_dashboard_is_the_key_form_and_no_data(page, site):
    page.goto(site.url + "/dashboard")
    assert page.locator("#key").is_visible() and page.locator(".chart").count() == 0
    assert page.request.get(site.url + "/analytics?days=1").status == 401
    assert page.request.get(site.url + "/audits").status == 401
    page.fill("#key", "not-the-key")
    page.click("form#login button[type=submit]")
    page.wait_for_selector(".login .error")
    assert page.locator(".chart").count() == 0 and page.request.get(site.url + "/audits").status == 401


def test_signed_in_the_dashboard_counts_the_query_and_opens_audit_reports(page, site):
    answer = search(page, site, QUERY)
    zone = answer["brand_zone"]
    run_id = _audit_done(site, {"brand": zone["brand"], "keyword": zone["keyword"]})
    page.goto(site.url + "/dashboard")
    page.fill("#key", site.key)
    page.click("form#login button[type=submit]")
    page.wait_for_selector("body[data-ready=true]")
    deadline = time.monotonic() + WAIT_S
    counted = f'#chart-top g[data-label="{QUERY}"]'
    while not page.locator(counted).count():  # the query log is written asynchronously
        assert time.monotonic() < deadline, page.inner_text("#chart-top")
        time.sleep(0.5)
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
    assert int(page.locator(counted).get_attribute("data-value")) >= 1
    assert page.locator("#chart-days g").count() >= 1 and "searches" in page.inner_text("#summary")
    shot(page, "dashboard")
    with page.expect_navigation():
        page.click(f'#audits a[href="/audits/{run_id}/report"]')
    assert "<svg" in page.content() and zone["keyword"] in page.content()  # the HTML report, through the session
    page.go_back()
    page.wait_for_selector("#logout")
    page.click("#logout")
    page.wait_for_selector("#key")
    assert page.request.get(site.url + f"/audits/{run_id}/report").status == 401
