"""What a search answer may tell a caller without the API key."""

from __future__ import annotations

from search_api.http.redact import public_answer


def personal_answer() -> dict:
    explain = {"keyword": {"rank": 1, "score": 3.2},
               "personal": {"keyword_factor": 1.2, "reasons": ["brand affinity 0.40 (棉语)"]}}
    return {"results": [{"id": "P1", "explain": dict(explain)}, {"id": "P2"}],
            "brand_zone": {"brand": "棉语", "products": [{"id": "P3", "explain": dict(explain)}]},
            "meta": {"legs": {"personal": "ok", "keyword": "ok (personalised)", "semantic": "ok"},
                     "personalised": True,
                     "profile": {"source": "user", "top_brands": [{"brand": "棉语", "share": 0.4}]}}}


def test_keyless_answers_lose_the_profile_but_keep_the_ranking():
    body = public_answer(personal_answer(), show_profile=False)
    assert "profile" not in body["meta"] and body["meta"]["personalised"] is True
    assert body["results"][0]["explain"] == {"keyword": {"rank": 1, "score": 3.2}}
    assert "personal" not in body["brand_zone"]["products"][0]["explain"]
    assert "棉语" not in str(body["results"]) + str(body["meta"])


def test_answers_for_key_holders_keep_the_profile():
    body = public_answer(personal_answer(), show_profile=True)
    assert body == personal_answer()


def test_failed_legs_lose_elasticsearch_text_for_everyone(caplog):
    detail = "failed: keyword search failed: HTTP 400 search_phase_execution_exception: all shards failed"
    body = personal_answer()
    body["meta"]["legs"]["keyword"] = detail
    for show in (True, False):
        out = public_answer({**body, "meta": {**body["meta"], "legs": dict(body["meta"]["legs"])}}, show_profile=show)
        assert out["meta"]["legs"]["keyword"] == "failed"
    assert "search_phase_execution_exception" in caplog.text


def test_a_timed_out_leg_says_so():
    """`failed: timeout` is our own word (no engine text), so every caller reads it; `failed: time…` is not."""
    body = personal_answer()
    body["meta"]["legs"].update(keyword="failed: timeout", semantic="failed: timeout (caused by ES)")
    out = public_answer(body, show_profile=False)
    assert out["meta"]["legs"]["keyword"] == "failed: timeout"
    assert out["meta"]["legs"]["semantic"] == "failed"
