"""Suggestions without services: pinyin readings, phrase mining, ranking, request validation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from indexer.format.phrases import Titled, joined, mine
from indexer.text.pinyin import readings
from search_api.core.errors import InvalidParameter
from search_api.suggest.params import MAX_PREFIX_CHARS, parse_suggest
from search_api.suggest.rank import merged, personalised
from search_api.suggest.sources import Candidate, Kind, active, completion_body


def test_pinyin_readings_full_spaced_and_initials():
    assert readings("抱枕") == ("baozhen", "bao zhen", "bz")
    assert readings("U型枕") == ("uxingzhen", "u xing zhen", "uxz")
    assert readings("memory foam") == ()


def test_joined_spaces_latin_words_only():
    assert joined(("memory", "foam")) == "memory foam"
    assert joined(("飞机", "枕")) == "飞机枕"
    assert joined(("u", "型", "枕")) == "u型枕"


def _titles(rows):
    return [Titled((tuple(t.split()),), leaf) for t, leaf in rows]


def test_phrases_are_free_standing_cohesive_and_specific():
    adjectives, brands = ["thick", "soft", "new", "premium"], ["acme", "zeta", "nova", "orbi"]
    rows = []
    for i, (adj, brand) in enumerate((a, b) for a in adjectives for b in brands):
        for noun, leaf in (("memory foam neck support pillow", "pillows"), ("memory foam car cushion", "car"),
                           ("air fryer", "fryers"), ("memory foam travel pillow", "travel"),
                           ("phone case", "cases"), ("rice cooker", "cookers")):
            rows.append((f"{brand} {adj} {noun} {['free shipping', 'gift box', 'large'][i % 3]}", leaf))
    found = {" ".join(p) for p in mine(_titles(rows))}
    assert {"memory foam", "air fryer", "phone case", "rice cooker"} <= found
    assert "foam neck" not in found and "memory foam neck" not in found  # fragments: one neighbour only
    assert "thick memory foam" not in found  # an adjective with anything: not cohesive
    assert "free shipping" not in found  # under every category: marketing, not a product


def _cand(text, score, *, typo=False, brands=(), categories=()):
    return Candidate(text=text, norm=text.lower(), kind=Kind.PRODUCT, score=score, typo=typo,
                     brands=brands, categories=categories)


def test_merge_puts_exact_before_typo_and_keeps_one_per_text():
    out = merged([_cand("b", 5, typo=True), _cand("a", 1), _cand("A", 9, typo=True), _cand("c", 3)])
    assert [c.text for c in out] == ["c", "a", "b"]


def test_personal_order_is_bounded_and_keeps_relative_order():
    ranked = [_cand(f"t{i}", 10 - i, categories=("mine",) if i in (3, 5, 6, 7) else ()) for i in range(9)]
    out = personalised(ranked, brands=frozenset(), categories=frozenset({"mine"}), size=4)
    assert [c.text for c in out] == ["t3", "t5", "t0", "t1"]  # ceil(4 × 0.5) moved up, the rest in order
    same = personalised(ranked, brands=frozenset({"other"}), categories=frozenset(), size=4)
    assert same == ranked[:4]


def test_fuzzy_only_for_latin_prefixes_of_four_or_more():
    assert "typo" in completion_body("memroy fo", size=5)["suggest"]
    assert "typo" not in completion_body("mem", size=5)["suggest"]
    assert "typo" not in completion_body("抱枕抱枕", size=5)["suggest"]


def test_brand_keyword_window():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert active({"active_from": "2026-01-01T00:00:00+00:00", "active_to": None}, now)
    assert not active({"active_from": "2020-01-01T00:00:00+00:00", "active_to": "2021-01-01T00:00:00+00:00"}, now)


@pytest.mark.parametrize(("args", "field"), [
    ({}, "q"), ({"q": ""}, "q"), ({"q": "   "}, "q"), ({"q": "x" * (MAX_PREFIX_CHARS + 1)}, "q"),
    ({"q": "ab\x00c"}, "q"), ({"q": "a\nb"}, "q"), ({"q": ["a", "b"]}, "q"),
    ({"q": "a", "size": "0"}, "size"), ({"q": "a", "size": "21"}, "size"), ({"q": "a", "size": "x"}, "size"),
    ({"q": "a", "user_id": "u" * 200}, "user_id"),
])
def test_bad_requests_name_the_field(args, field):
    with pytest.raises(InvalidParameter) as caught:
        parse_suggest(args)
    assert caught.value.field == field


def test_request_is_normalised():
    req = parse_suggest({"q": "  Memory  FOAM ", "size": "3", "user_id": ""})
    assert (req.q, req.size, req.user_id) == ("memory foam", 3, None)


def test_suggestion_documents_merge_sources_and_skip_hidden_products():
    from indexer.catalog.models import BrandKeyword, Product
    from indexer.format.suggestions import SuggestionSet

    found = SuggestionSet()
    found.add_product(Product(id="p1", title="U型枕", brand="乐源", category=("旅行用品", "U型枕"), sales=9, rating=5.0))
    found.add_product(Product(id="p2", title="secret thing", brand="Hidden", category=("Gone",), status="off_shelf"))
    found.add_brand_keyword(BrandKeyword(keyword="U型枕", brand_id="B1", brand="乐源", aliases=("neck pillow",), id="k1"))
    docs = {d["norm"]: d for _, d in found.documents()}
    assert "hidden" not in docs and "gone" not in docs  # an off-shelf product contributes nothing
    pillow = docs["u型枕"]
    assert pillow["text"] == "U型枕" and pillow["kind"] == "category" and pillow["popularity"] == 10
    assert pillow["brand_keyword"]["brand_id"] == "B1" and not pillow["keyword_only"]
    assert pillow["suggest"]["input"] == ["u型枕", "uxingzhen", "u xing zhen", "uxz"]
    alias = docs["neck pillow"]
    assert alias["kind"] == "brand" and alias["keyword_only"] and alias["popularity"] == docs["乐源"]["popularity"]
