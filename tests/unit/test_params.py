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
    ({"q": "x", "mode": "fuzzy"}, "mode"), ({"q": "x", "sort": "newest"}, "sort"),
    ({"q": "x", "price_min": "-3"}, "price_min"), ({"q": "x", "price_min": "9", "price_max": "3"}, "price_min"),
    ({"q": "x", "explain": "maybe"}, "explain"), ({"q": "x", "brand": [""]}, "brand"),
    ({"q": "x", "size": ["1", "2"]}, "size"),
])
def test_invalid_parameters_name_the_field(args, field):
    with pytest.raises(InvalidParameter) as info:
        parse_search(args)
    assert info.value.field == field
    assert info.value.body()["error"]["code"] == "invalid_parameter"
