"""The search page in Chromium against a served API: results, a click logged with its query, personas, phones."""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot

pytestmark = [pytest.mark.integration, pytest.mark.browser]
QUERY = "pillow"
ANALYTICS_WAIT_S = 30.0
"""The query log and the events are written asynchronously and refreshed every second."""


def search(page, site, query: str) -> dict:
    """Type `query` into the page's box, press Enter, and return the answer the page received."""
    page.goto(site.url + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("#q", query)
    with page.expect_response(lambda r: r.url == site.url + "/search" and r.request.method == "POST") as searched:
        page.press("#q", "Enter")
    page.wait_for_selector("#results .result")
    return searched.value.json()


def shown_ids(page) -> list[str]:
    return page.locator("#results > .result").evaluate_all("items => items.map(i => i.dataset.id)")


def test_type_a_query_see_results_in_the_page_language(page, site):
    answer = search(page, site, QUERY)
    results = answer["results"]
    assert results and shown_ids(page) == [r["id"] for r in results]
    titles = page.locator("#results .result .title").all_inner_texts()
    assert titles == [r.get("title_en") or r["title"] for r in results]  # an en-US browser reads English first
    first = page.locator("#results .result").first.inner_text()
    assert results[0]["brand"] in first and f"{results[0]['price']:.2f}" in first
    page.click("#lang")
    page.wait_for_function("document.documentElement.lang === 'zh'")
    # the list is drawn again once the page's capabilities are re-read (a fetch), after `lang` changes
    expect(page.locator("#results .result .title")).to_have_text([r["title"] for r in results])
    assert "件商品" in page.inner_text("#status")
    if answer.get("brand_zone"):
        assert answer["brand_zone"]["brand"] in page.inner_text("#brand-zone")


def test_a_click_sends_the_query_id_and_the_position_and_reaches_the_analytics(page, site):
    answer = search(page, site, QUERY)
    query_id = answer["meta"]["query_id"]
    assert query_id and page.locator("body").get_attribute("data-query-id") == query_id
    with page.expect_request(lambda r: r.url == site.url + "/clicks" and r.method == "POST") as clicked:
        page.locator("#results .result .title").nth(2).click()
    assert clicked.value.post_data_json == {"query_id": query_id, "product_id": answer["results"][2]["id"],
                                            "position": 3}
    assert clicked.value.response().status == 202
    deadline = time.monotonic() + ANALYTICS_WAIT_S
    while True:
        status, stats = site.api("GET", "/analytics?days=1", key=True)
        assert status == 200, stats
        third = next((row for row in stats["ctr_by_position"] if row["position"] == 3), None)
        if third and third["clicks"] >= 1:
            break
        assert time.monotonic() < deadline, f"the click at position 3 never reached /analytics: {stats}"
        time.sleep(0.5)


def test_explain_shows_each_legs_rank(page, site):
    search(page, site, QUERY)
    with page.expect_response(lambda r: r.url == site.url + "/search"):
        page.check("#explain")
    page.wait_for_selector("#results .explain")
    first = page.locator("#results .result .explain").first.inner_text()
    assert "keyword: #" in first or "semantic: #" in first


def test_switching_persona_changes_the_order(page, site):
    persona = _a_persona_that_reorders(site)
    search(page, site, persona["query"])
    before = shown_ids(page)
    shot(page, "persona-before")
    with page.expect_response(lambda r: r.url == site.url + "/search") as searched:
        page.select_option("#persona", persona["id"])
    answer = searched.value.json()
    page.wait_for_selector("body[data-personalised=true]")
    after = shown_ids(page)
    assert answer["meta"]["personalised"] and after == [r["id"] for r in answer["results"]]
    assert after != before, f"{persona['id']} did not change the order of {persona['query']!r}"


def _a_persona_that_reorders(site) -> dict:
    """A sample persona whose inline history reorders its query's first page (checked through the API)."""
    status, served = site.api("GET", "/personas")
    assert status == 200 and len(served["personas"]) == len(site.personas)
    for persona in served["personas"]:
        plain = site.api("POST", "/search", {"q": persona["query"], "size": 10})[1]
        mine = site.api("POST", "/search", {"q": persona["query"], "size": 10, "history": persona["history"]})[1]
        if [r["id"] for r in plain["results"]] != [r["id"] for r in mine["results"]]:
            return persona
    raise AssertionError("no sample persona changes its query's order")


def test_paging_shows_the_next_page(page, site):
    first = search(page, site, QUERY)
    assert first["meta"]["total"] > 10
    with page.expect_response(lambda r: r.url == site.url + "/search") as searched:
        page.click("#next")
    second = searched.value.json()
    page.wait_for_function("document.querySelector('#results').start === 11")
    assert shown_ids(page) == [r["id"] for r in second["results"]]
    assert not set(shown_ids(page)) & {r["id"] for r in first["results"]}


def test_a_phone_width_screen_shows_results_without_sideways_scrolling(browser, site):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    try:
        search(phone, site, "抱枕")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375
        box = phone.locator("#results .result").first.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375
        shot(phone, "phone-width")
    finally:
        context.close()


def test_sorting_by_price_orders_the_results_the_api_way(page, site):
    search(page, site, QUERY)
    assert "price_asc" in page.locator("#sort option").evaluate_all("options => options.map(o => o.value)")
    with page.expect_response(lambda r: r.url == site.url + "/search") as searched:
        page.select_option("#sort", "price_asc")
    answer = searched.value.json()
    assert searched.value.request.post_data_json["sort"] == "price_asc"
    page.wait_for_function("id => document.querySelector('#results .result').dataset.id === id",
                           arg=answer["results"][0]["id"])
    prices = [r["price"] for r in answer["results"]]
    assert prices == sorted(prices) and shown_ids(page) == [r["id"] for r in answer["results"]]


def _offered(site, path: str | None = None, param: str | None = None) -> bool:
    """Whether the served contract has a route (`path`) or a search parameter (`param`): the page shows only those."""
    doc = site.api("GET", "/openapi.json")[1]
    if path is not None:
        return path in doc["paths"]
    return param in doc["components"]["schemas"]["SearchParams"]["properties"]


def test_suggestions_come_once_the_typing_pauses_and_pick_a_search(page, site):
    if not _offered(site, path="/suggest"):
        pytest.skip("this server's contract has no /suggest: the page offers no suggestions")
    page.goto(site.url + "/")
    page.wait_for_selector("body[data-ready=true]")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/suggest?" in r.url else None)
    with page.expect_response(lambda r: "/suggest?" in r.url) as suggested:
        page.locator("#q").press_sequentially("bao", delay=40)  # faster than the 150 ms pause: one request
    texts = [s["text"] for s in suggested.value.json()["suggestions"]]
    page.wait_for_selector("#suggestions li")
    assert texts and page.locator("#suggestions li").all_inner_texts() == texts
    assert len(asked) == 1 and "q=bao" in asked[0]
    with page.expect_response(lambda r: r.url == site.url + "/search") as searched:
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
    assert searched.value.request.post_data_json["q"] == texts[0] and page.input_value("#q") == texts[0]


def test_a_facet_value_filters_the_results_and_a_second_click_clears_it(page, site):
    if not _offered(site, param="facets"):
        pytest.skip("this server's contract has no facets parameter: the page shows none")
    search(page, site, QUERY)
    brand = page.locator("#facets [data-facet=brand] button").first
    name = brand.get_attribute("data-value")
    with page.expect_response(lambda r: r.url == site.url + "/search") as searched:
        brand.click()
    answer = searched.value.json()
    assert searched.value.request.post_data_json["brand"] == name
    assert answer["results"] and {r["brand"] for r in answer["results"]} == {name}
    page.wait_for_selector("#facets button.chosen")
    with page.expect_response(lambda r: r.url == site.url + "/search") as cleared:
        page.locator("#facets button.chosen").click()
    assert "brand" not in cleared.value.request.post_data_json


def test_a_pasted_history_personalises_and_a_broken_one_is_refused_in_the_page(page, site):
    persona = _a_persona_that_reorders(site)
    search(page, site, persona["query"])
    page.select_option("#persona", "paste")
    page.fill("#history-text", "[{not json")
    page.click("#history-apply")
    assert page.inner_text("#history-error")
    assert page.locator("body").get_attribute("data-personalised") == "false"
    page.fill("#history-text", json.dumps(persona["history"]))
    with page.expect_response(lambda r: r.url == site.url + "/search") as searched:
        page.click("#history-apply")
    assert searched.value.request.post_data_json["history"] == persona["history"]
    page.wait_for_selector("body[data-personalised=true]")
    assert page.inner_text("#history-error") == ""
