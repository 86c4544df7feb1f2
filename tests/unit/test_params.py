import pytest

from search_api.core.errors import InvalidParameter
from search_api.retrieval.params import parse_search


def test_defaults_and_normalisation():
    req = parse_search({"q": "  ＭＥＭＯＲＹ  foam "})
    assert (req.q, req.size, req.offset, req.mode, req.sort, req.explain) == (
        "memory foam", 20, 0, "hybrid", "relevance", False)


def test_repeated_filters_and_types():
    req = parse_search({"q": "x", "brand": ["a", "b"], "category": "抱枕", "price_min": "10",
                        "price_max": 20, "explain": "true", "from": "20", "size": "10"})
    assert req.brands == ("a", "b") and req.categories == ("抱枕",)
    assert (req.price_min, req.price_max, req.explain, req.offset, req.size) == (10.0, 20.0, True, 20, 10)


@pytest.mark.parametrize(("args", "field"), [
    ({}, "q"), ({"q": ""}, "q"), ({"q": "   "}, "q"), ({"q": "x" * 300}, "q"), ({"q": 5}, "q"),
    ({"q": "x", "size": "0"}, "size"), ({"q": "x", "size": "101"}, "size"), ({"q": "x", "size": "a"}, "size"),
    ({"q": "x", "from": "-1"}, "from"), ({"q": "x", "from": "995", "size": "10"}, "from"),
    ({"q": "x", "mode": "fuzzy"}, "mode"), ({"q": "x", "sort": "cheapest"}, "sort"),
    ({"q": "x", "price_min": "-3"}, "price_min"), ({"q": "x", "price_min": "9", "price_max": "3"}, "price_min"),
    ({"q": "x", "explain": "maybe"}, "explain"), ({"q": "x", "brand": [""]}, "brand"),
    ({"q": "x", "size": ["1", "2"]}, "size"),
    ({"q": "x", "facets": "brand,colour"}, "facets[0]"), ({"q": "x", "facets": ""}, "facets"),
    ({"q": "x", "price": "50"}, "price[0]"), ({"q": "x", "price": ["1-2", "a-b"]}, "price[1]"),
    ({"q": "x", "rating_min": "5.5"}, "rating_min"), ({"q": "x", "rating_min": "-1"}, "rating_min"),
    ({"q": "x", "in_stock": "maybe"}, "in_stock[0]"), ({"q": "x", "status": "deleted"}, "status[0]"),
    ({"q": "x", "color": [""]}, "color"), ({"q": "x", "shop": 5}, "shop"),
])
def test_invalid_parameters_name_the_field(args, field):
    with pytest.raises(InvalidParameter) as info:
        parse_search(args)
    assert info.value.field == field
    assert info.value.body()["error"]["code"] == "invalid_parameter"


@pytest.mark.parametrize(("args", "field"), [
    ({"q": "x", "size": float("inf")}, "size"), ({"q": "x", "size": float("-inf")}, "size"),
    ({"q": "x", "size": 1e400}, "size"), ({"q": "x", "from": float("inf")}, "from"),
    ({"q": "x", "from": float("nan")}, "from"), ({"q": "x", "size": "Infinity"}, "size"),
    ({"q": "x", "price_min": float("nan")}, "price_min"), ({"q": "x", "price_max": "inf"}, "price_max"),
])
def test_non_finite_numbers_are_invalid_parameters(args, field):
    with pytest.raises(InvalidParameter) as info:
        parse_search(args)
    assert info.value.field == field and info.value.message.startswith(f"{field} must be")


@pytest.mark.parametrize(("args", "field"), [
    ({"q": "x", "size": True}, "size"), ({"q": "x", "from": False}, "from"), ({"q": "x", "price_max": True}, "price_max"),
    ({"q": "x", "size": 10.5}, "size"), ({"q": "x", "explain": 2}, "explain"), ({"q": "x", "category": [" "]}, "category"),
    ({"q": "x", "brand": ["b"] * 51}, "brand"), ({"q": "x", "user_id": "u" * 129}, "user_id"),
    ({"q": "x", "user_id": 7}, "user_id"), ({"q": "x", "mode": ["keyword", "semantic"]}, "mode"),
])
def test_json_types_that_lax_coercion_would_accept_are_refused(args, field):
    with pytest.raises(InvalidParameter) as info:
        parse_search(args)
    assert info.value.field == field


@pytest.mark.parametrize(("raw", "expected"), [
    ("true", True), ("TRUE", True), ("1", True), ("yes", True), ("false", False), ("0", False), ("No", False),
    (True, True), (False, False), (1, True), (0, False), ("", False), ([], False),
])
def test_booleans_in_query_strings_and_json(raw, expected):
    assert parse_search({"q": "x", "explain": raw}).explain is expected


def test_json_body_types_and_query_string_shapes_give_the_same_request():
    from_query = parse_search({"q": "x", "size": "5", "from": "10", "brand": "a", "price_min": "1.5", "mode": "keyword",
                               "sort": ["price_asc"], "user_id": " u1 ", "unknown": "ignored"})
    from_json = parse_search({"q": "x", "size": 5.0, "from": 10, "brand": ["a"], "price_min": 1.5, "mode": "keyword",
                              "sort": "price_asc", "user_id": "u1"})
    assert from_query == from_json
    assert (from_json.offset, from_json.brands, from_json.sort, from_json.user_id) == (10, ("a",), "price_asc", "u1")


def test_messages_are_sentences_not_pydantic_dumps():
    for args in ({"q": "x", "size": "abc"}, {"q": "x", "mode": "m"}, {"q": "x", "from": "990", "size": "20"},
                 {"q": "x", "price_min": "5", "price_max": "1"}, {"q": "x", "size": ["1", "2"]}):
        with pytest.raises(InvalidParameter) as info:
            parse_search(args)
        message = info.value.message
        assert message.startswith(info.value.field) and "Input should" not in message and "pydantic" not in message
    with pytest.raises(InvalidParameter, match=r"^from \+ size must be at most 1000$"):
        parse_search({"q": "x", "from": "990", "size": "20"})


def test_browse_parameters():
    req = parse_search({"q": "x", "facets": ["brand,price", "rating"], "price": ["0-50", "1000-"], "color": "红色",
                        "shop": ["s1", "s2"], "rating_min": "4", "in_stock": ["true", "false"], "sort": "newest"})
    assert req.facets == ("brand", "price", "rating") and req.price_bands == ((0.0, 50.0), (1000.0, None))
    assert (req.colors, req.shops, req.rating_min, req.sort) == (("红色",), ("s1", "s2"), 4.0, "newest")
    assert req.statuses == ("on_sale", "sold_out")
    assert parse_search({"q": "x", "facets": "all"}).facets == ("brand", "category", "price", "color", "rating",
                                                               "in_stock")
    assert parse_search({"q": "x", "in_stock": False, "status": ["off_shelf"]}).statuses == ("off_shelf", "sold_out")
    assert parse_search({"q": "x"}).statuses == ()


def test_history_is_post_only_and_excludes_user_id():
    with pytest.raises(InvalidParameter) as info:
        parse_search({"q": "x", "history": "P1"})
    assert info.value.field == "history"
    with pytest.raises(InvalidParameter) as info:
        parse_search({"q": "x", "user_id": "u", "history": []}, history=[])
    assert info.value.field == "history"
    assert parse_search({"q": "x", "history": []}, history=[]).history == ()


def test_the_model_documents_the_contract():
    from search_api.retrieval.params import SearchParams

    schema = SearchParams.model_json_schema()
    props = schema["properties"]
    assert schema["required"] == ["q"] and "offset" not in props
    assert (props["from"]["minimum"], props["from"]["maximum"], props["size"]["maximum"]) == (0, 1000, 100)
    assert props["q"]["maxLength"] == 256 and props["brand"]["maxItems"] == 50
    defs = {f"#/$defs/{name}": d for name, d in schema["$defs"].items()}
    assert all(p.get("description") or defs[p["$ref"]]["description"] for p in props.values())


@pytest.mark.parametrize(("q", "message"), [
    ("pil\x00low", "q must not contain control characters"),
    ("a\x07b", "q must not contain control characters"),
    ("!!!", "q has no letters or digits to search for"),
    ("\u200b", "q has no letters or digits to search for"),
    ("x" * 300, "q must be at most 256 characters"),
])
def test_queries_with_nothing_to_search_or_control_characters_are_refused(q, message):
    with pytest.raises(InvalidParameter) as caught:
        parse_search({"q": q})
    assert caught.value.field == "q" and str(caught.value) == message


def test_fusion_and_semantic_weight_per_request():
    from search_api.retrieval.params import Fusion

    req = parse_search({"q": "x", "fusion": "linear", "semantic_weight": "0.4"})
    assert req.fusion == Fusion.LINEAR and req.semantic_weight == 0.4
    assert parse_search({"q": "x"}).fusion is None and parse_search({"q": "x"}).semantic_weight is None
    for args, field in (({"fusion": "sum"}, "fusion"), ({"semantic_weight": "11"}, "semantic_weight"),
                        ({"semantic_weight": "-1"}, "semantic_weight"), ({"semantic_weight": "nan"}, "semantic_weight"),
                        ({"fusion": ["rrf", "linear"]}, "fusion")):
        with pytest.raises(InvalidParameter) as info:
            parse_search({"q": "x", **args})
        assert info.value.field == field
