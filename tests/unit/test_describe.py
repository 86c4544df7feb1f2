"""The answer's JSON from typed pipeline values."""

from datetime import UTC, datetime

import numpy as np
import pytest

from search_api.core.settings import ApiSettings
from search_api.personal.profile import Profile
from search_api.retrieval.describe import meta, render_legs, result_items
from search_api.retrieval.legs import LegResult, LegState, LegStatus, Retrieved
from search_api.retrieval.paging import Page
from search_api.retrieval.params import SearchRequest

PROFILE = Profile(np.array([1.0, 0.0], dtype=np.float32), (("B1", 1.0),), (), 2, 1, datetime(2026, 1, 1, tzinfo=UTC))


def retrieved(profile=None, **statuses):
    results = {"semantic": LegResult(["a", "b"], [0.91234567, 0.8], 2), "keyword": LegResult(["b", "c"], [9.0, 8.0], 40)}
    return Retrieved(statuses or {"semantic": LegStatus(LegState.OK), "keyword": LegStatus(LegState.OK)},
                     results, profile)


def test_render_legs_keeps_order_and_strings():
    legs = render_legs({"personal": LegStatus(LegState.NO_HISTORY), "semantic": LegStatus.skip("model does not cover zh"),
                        "keyword": LegStatus.failure("keyword search failed: HTTP 500")})
    assert list(legs.items()) == [("personal", "no history"), ("semantic", "skipped: model does not cover zh"),
                                  ("keyword", "failed: keyword search failed: HTTP 500")]


def test_meta_total_is_the_pages_eligible_count():
    page = Page(["a"], {"a": {}}, 1234)
    assert meta(SearchRequest(q="x"), "i", retrieved(), page, 1.0)["total"] == 1234


def test_items_skip_deleted_products_and_explain_each_legs_rank():
    page = Page(["a", "gone", "c"], {"a": {"title": "A"}, "c": {"title": "C"}}, 3)
    scores = {"a": 0.0163934426, "gone": 0.01, "c": 0.0161290322}
    items = result_items(SearchRequest(q="x", explain=True), page, scores, retrieved(), {}, ApiSettings())
    assert [i["id"] for i in items] == ["a", "c"]
    assert items[0]["score"] == 0.016393 and items[0]["title"] == "A"
    assert items[0]["explain"] == {"semantic": {"rank": 1, "score": 0.912346}, "keyword": None}
    assert items[1]["explain"] == {"semantic": None, "keyword": {"rank": 2, "score": 8.0}}
    assert "explain" not in result_items(SearchRequest(q="x"), page, scores, retrieved(), {}, ApiSettings())[0]


def test_explain_shows_personal_boosts_with_the_tiebreak():
    page = Page(["a"], {"a": {"brand": "B1", "category": ["家居", "抱枕"]}}, 1)
    settings = ApiSettings(personal_tiebreak=1e-5)
    item = result_items(SearchRequest(q="x", explain=True), page, {"a": 1.0}, retrieved(PROFILE), {"a": 0.5},
                        settings)[0]
    personal = item["explain"]["personal"]
    assert personal["profile_cos"] == 0.5 and personal["tiebreak"] == pytest.approx(5e-6)
    assert personal["keyword_factor"] > 1 and personal["reasons"]


def test_meta_describes_the_profile_only_when_one_was_asked_for():
    page = Page(["a"], {}, 40)
    plain = meta(SearchRequest(q="x"), "products-1", retrieved(), page, 3.5)
    assert plain == {"total": 40, "took_ms": 3.5, "index_version": "products-1", "mode": "hybrid",
                     "legs": {"semantic": "ok", "keyword": "ok"}, "personalised": False, "degraded": False,
                     "relaxed": None, "corrected": None, "understood": []}
    asked = retrieved(PROFILE, personal=LegStatus(LegState.OK), semantic=LegStatus(LegState.PERSONALISED),
                      keyword=LegStatus.failure("down"))
    described = meta(SearchRequest(q="x", user_id="u1"), "products-1", asked, page, 1.0)
    assert described["personalised"] and described["degraded"]
    assert described["legs"] == {"personal": "ok", "semantic": "ok (personalised)", "keyword": "failed: down"}
    assert described["profile"] == {"source": "user", **PROFILE.describe()}
    failed = Retrieved({"personal": LegStatus.failure("events down")}, {})
    assert meta(SearchRequest(q="x", history=()), "p", failed, page, 1.0)["profile"] == {"source": "history"}
