"""What a served API answers over real HTTP, checked by the test itself: audits, filters, sorts, body limits.

One `search-api serve` process (gunicorn, one worker) serves the shared sample build under a
prefix of its own (`sample_view`), so the audit runs it stores never land under the sample's. Every expectation is computed here from `/search` answers, a code
path apart from the server's own `audits.measure`.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from indexer.sample.data import LEAVES
from tests.serving import Served, raw, sync_env
from tests.waiting import poll

pytestmark = pytest.mark.integration

KEY = "served-answers-key"
MAX_BODY = 16_384
"""The server's body limit: the 6,000-cell audit request fits (~4 KB), the refused bodies do not."""
TOP_K = 50
AUDIT_WITHIN_S = 900.0
"""6,000 searches on one worker of a busy shared 2-core machine."""


@pytest.fixture(scope="module")
def served(sample_view, tmp_path_factory) -> Iterator[Served]:  # type: ignore[no-untyped-def]
    server = Served(sample_view, tmp_path_factory.mktemp("log") / "serve.log", "--workers", "1",
                    STORESEARCH_API_KEY=KEY, STORESEARCH_MAX_BODY_BYTES=str(MAX_BODY), **sync_env(sample_view))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def rows(sample_index) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [json.loads(line) for line in sample_index.products.read_text(encoding="utf-8").splitlines()]


def search(served: Served, **params: Any) -> list[dict[str, Any]]:
    status, body = served.get("/search", **params)
    assert status == 200, body
    return body["results"]


def test_audit_cells_equal_independent_searches_over_http(served, rows):
    """100 brands × 20 keywords (Chinese and English) × 3 personas; a seeded 1% re-asked of /search."""
    brands = [b for b, _ in Counter(r["brand"] for r in rows).most_common(100)]
    keywords = [leaf[2][0][i % 2] for i, leaf in enumerate(LEAVES[:20])]  # 抱枕, pillow, …: both legs and none

    def history(leaf: str) -> list[dict[str, str]]:
        return [{"product_id": r["id"], "action": "click"} for r in rows if r["category"][-1] == leaf][:10]

    personas = [{"label": "anonymous"}, {"label": "pillows", "history": history("抱枕")},
                {"label": "audio", "history": history("蓝牙耳机")}]
    status, started = served.post("/audits", {"brands": brands, "keywords": keywords, "personas": personas,
                                              "top_k": TOP_K, "name": "http-check"}, {"X-API-Key": KEY})
    assert status == 202 and started["cells"] == 6000, started
    run = finished_audit(served, started["id"])
    assert run["status"] == "done" and len(run["cells"]) == 6000, run.get("error")
    cells = {(c["brand"], c["keyword"], c["persona"]): c for c in run["cells"]}
    by_label = {p["label"]: p for p in personas}
    answers: dict[tuple[str, str], dict[str, Any]] = {}
    for brand, keyword, label in random.Random(18).sample(sorted(cells), 60):
        if (keyword, label) not in answers:
            body = {"q": keyword, "size": TOP_K, **({"history": by_label[label]["history"]} if label != "anonymous"
                                                    else {})}
            status, answers[keyword, label] = served.post("/search", body)
            assert status == 200, answers[keyword, label]
        expected = seen_by_shopper(answers[keyword, label], brand)
        cell = cells[brand, keyword, label]
        assert {k: cell[k] for k in expected} == expected, (brand, keyword, label)
    assert any(cells[k]["best_rank"] for k in cells) and any(cells[k]["zone_won"] for k in cells)


def finished_audit(served: Served, run_id: str) -> dict[str, Any]:
    def run() -> dict[str, Any] | None:
        status, body = served.request("GET", f"/audits/{run_id}", headers={"X-API-Key": KEY})
        assert status == 200, body
        return body if body["status"] != "running" else None

    return poll(run, within=AUDIT_WITHIN_S, what="the audit finished", every=1.0)


def seen_by_shopper(answer: dict[str, Any], brand: str) -> dict[str, Any]:
    """Where `brand` stands in one /search answer, read off the answer as a shopper would see it."""
    results = answer["results"]
    ranks = [rank for rank, hit in enumerate(results, start=1) if hit["brand"] == brand]
    zone = answer.get("brand_zone") or {}
    return {"ranks": ranks, "ids": [results[rank - 1]["id"] for rank in ranks],
            "best_rank": ranks[0] if ranks else None, "top10": len([r for r in ranks if r <= 10]),
            "results": len(results), "zone_brand": zone.get("brand"), "zone_won": zone.get("brand") == brand,
            "index_version": answer["meta"]["index_version"]}


def test_a_category_filter_keeps_only_that_category(served):
    unfiltered = search(served, q="pillow", size=TOP_K)
    kept = search(served, q="pillow", size=TOP_K, category="抱枕")
    assert kept and all("抱枕" in hit["category"] for hit in kept), [hit["category"] for hit in kept]
    assert [hit for hit in unfiltered if "抱枕" not in hit["category"]]  # the filter had something to exclude


def test_a_price_range_keeps_only_prices_within_it(served):
    prices = sorted(hit["price"] for hit in search(served, q="pillow", size=TOP_K))
    low, high = prices[len(prices) // 4], prices[3 * len(prices) // 4]
    assert prices[0] < low and high < prices[-1]  # the range excludes part of the unfiltered answer
    kept = search(served, q="pillow", size=TOP_K, price_min=low, price_max=high)
    assert kept and all(low <= hit["price"] <= high for hit in kept), [hit["price"] for hit in kept]
    above = search(served, q="pillow", size=TOP_K, price_min=high)
    assert above and all(hit["price"] >= high for hit in above)


@pytest.mark.parametrize(("sort", "field", "descending"), [
    ("price_desc", "price", True), ("price_asc", "price", False), ("sales", "sales", True), ("rating", "rating", True),
])
def test_a_field_sort_orders_the_answer_by_that_field(served, sort, field, descending):
    def in_order(values: list[Any]) -> bool:
        return values == sorted(values, reverse=descending)

    relevance = [hit[field] for hit in search(served, q="pillow", size=30)]
    assert not in_order(relevance)  # the sort has something to do
    ordered = search(served, q="pillow", size=30, sort=sort)
    values = [hit[field] for hit in ordered]
    assert len(values) == 30 and None not in values and in_order(values), values


@pytest.mark.parametrize(("path", "valid"), [("/search", b'{"q": "pillow"}'), ("/events", b"[]")])
def test_a_body_over_the_limit_is_a_json_413_by_length_or_when_chunked(served, path, valid):
    """Chunked bodies carry no Content-Length: werkzeug alone would cut them at the limit and parse the cut."""
    over = json.dumps({"q": "x" * MAX_BODY}).encode()
    padded = valid + b" " * MAX_BODY  # valid JSON when cut at the limit: an answer to what was not sent
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-API-Key: {KEY}\r\nConnection: close\r\n").encode()
    answers = [raw(served.port, head + f"Content-Length: {len(over)}\r\n\r\n".encode())]  # refused unread
    for body in (over, padded):
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:4096], body[4096:]))
        answers.append(raw(served.port, head + b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"))
    for status, headers, payload in answers:
        assert " 413 " in status and headers["content-type"] == "application/json", (status, payload[:200])
        assert json.loads(payload)["error"] == {"code": "payload_too_large", "field": "body",
                                                "message": f"body is larger than {MAX_BODY} bytes"}
    assert served.post(path, json.loads(valid), {"X-API-Key": KEY})[0] == 200  # within the limit: answered
