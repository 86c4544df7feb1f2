"""Facet aggregations and their JSON, and the filters they count around (pure)."""

import pytest

from search_api.core.settings import ApiSettings
from search_api.retrieval.facets import band_key, category_tree, facet_aggregations, price_bands, render
from search_api.retrieval.filters import category_clause, selections, status_clause
from search_api.retrieval.params import SearchRequest, Status


def test_price_bands_run_from_zero_to_open_ended():
    assert price_bands([100, 50]) == [(0.0, 50), (50, 100), (100, None)]
    assert [band_key(lo, hi) for lo, hi in price_bands([50.5])] == ["0-50.5", "50.5-"]


def test_each_facet_counts_around_every_selection_but_its_own():
    req = SearchRequest(q="x", brands=("A",), colors=("红色",), rating_min=4.0)
    chosen = selections(req)
    aggs = facet_aggregations(("brand", "color", "rating", "in_stock"), chosen, ApiSettings())
    brand_filters = aggs["facet_brand"]["filter"]["bool"]["filter"]
    assert chosen["brand"] not in brand_filters and chosen["color"] in brand_filters
    assert chosen["rating"] in brand_filters and chosen["in_stock"] in brand_filters
    assert chosen["in_stock"] not in aggs["facet_in_stock"]["filter"]["bool"]["filter"]
    assert chosen["rating"] not in aggs["facet_rating"]["filter"]["bool"]["filter"]


def test_status_defaults_to_on_sale_counting_products_without_a_status():
    default = status_clause(())
    assert {"terms": {"status": ["on_sale"]}} in default["bool"]["should"]
    assert status_clause((Status.SOLD_OUT,)) == {"terms": {"status": ["sold_out"]}}
    assert selections(SearchRequest(q="x"))["in_stock"] == default


def test_category_values_are_names_at_any_level_or_paths():
    clause = category_clause(("枕头", "家居>床上用品"))
    assert clause["bool"]["should"] == [{"terms": {"category": ["枕头"]}},
                                        {"terms": {"category_path": ["家居 > 床上用品"]}}]


def test_price_bands_or_together_and_and_with_the_range():
    req = SearchRequest(q="x", price_min=10, price_bands=((0, 50), (100, None)))
    clause = selections(req)["price"]["bool"]["filter"]
    assert clause[0] == {"range": {"price": {"gte": 10}}}
    assert clause[1]["bool"]["should"] == [{"range": {"price": {"gte": 0, "lt": 50}}},
                                           {"range": {"price": {"gte": 100}}}]


def test_category_tree_nests_paths_by_count():
    buckets = [{"key": "a > b", "doc_count": 2}, {"key": "a", "doc_count": 5}, {"key": "a > c", "doc_count": 3},
               {"key": "z", "doc_count": 1}, {"key": "a > c > d", "doc_count": 3}]
    tree = category_tree(buckets)
    assert [(n["value"], n["count"]) for n in tree] == [("a", 5), ("z", 1)]
    assert [(n["path"], n["level"]) for n in tree[0]["children"]] == [("a > c", 2), ("a > b", 2)]
    assert tree[0]["children"][0]["children"][0]["path"] == "a > c > d"


@pytest.mark.parametrize(("facet", "values", "expected"), [
    ("brand", {"buckets": [{"key": "B", "doc_count": 3}]}, [{"value": "B", "count": 3}]),
    ("price", {"buckets": {"0-50": {"from": 0.0, "to": 50.0, "doc_count": 2}}},
     [{"value": "0-50", "from": 0.0, "to": 50.0, "count": 2}]),
    ("rating", {"buckets": {"4": {"from": 4.0, "doc_count": 9}, "4.5": {"from": 4.5, "doc_count": 7}}},
     [{"value": "4.5", "min": 4.5, "count": 7}, {"value": "4", "min": 4.0, "count": 9}]),
    ("in_stock", {"buckets": {"true": {"doc_count": 9}, "false": {"doc_count": 1}}},
     [{"value": True, "count": 9}, {"value": False, "count": 1}]),
])
def test_render_names_each_value_as_its_filter_takes_it(facet, values, expected):
    assert render([facet], {f"facet_{facet}": {"values": values}}) == {facet: expected}
