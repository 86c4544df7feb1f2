"""The browse request's shape (pure), and engine failures while paging.

Counts, orders and pages themselves are checked on a real node (tests/integration/test_browse.py).
"""

import pytest

from indexer.core.errors import EngineError
from search_api.core.errors import Unavailable
from search_api.core.settings import ApiSettings
from search_api.retrieval.paging import browse_body, field_sort, paginate
from search_api.retrieval.params import SearchRequest, Sort

QUERY = {"match_all": {}}


def test_a_field_sort_puts_missing_values_last_then_relevance_then_id():
    assert field_sort(Sort.PRICE_ASC) == [{"price": {"order": "asc", "missing": "_last"}},
                                          {"_score": {"order": "desc"}}, {"id": {"order": "asc"}}]
    assert field_sort(Sort.NEWEST)[0] == {"updated_at": {"order": "desc", "missing": "_last"}}


def test_a_sorted_answer_pages_the_whole_eligible_set_in_elasticsearch():
    body = browse_body(SearchRequest(q="x", sort=Sort.SALES, offset=40, size=20, brands=("B",)), QUERY, ["a"],
                       ApiSettings())
    assert (body["from_"], body["size"], body["sort"]) == (40, 20, field_sort(Sort.SALES))
    assert {"terms": {"brand": ["B"]}} in body["post_filter"]["bool"]["filter"]
    assert "candidates" not in body["aggs"] and body["track_total_hits"] is True


def test_a_relevance_answer_asks_which_fused_candidates_pass_the_filters():
    body = browse_body(SearchRequest(q="x", brands=("B",)), QUERY, ["a", "b"], ApiSettings())
    assert body["size"] == 0
    candidates = body["aggs"]["candidates"]
    assert candidates["filter"]["bool"]["filter"][0] == {"ids": {"values": ["a", "b"]}}
    assert {"terms": {"brand": ["B"]}} in candidates["filter"]["bool"]["filter"]
    assert candidates["aggs"]["ids"]["terms"]["size"] == 2


class FailingES:
    def search(self, **_):
        raise EngineError("browsing failed: HTTP 503")


def test_engine_failures_while_paging_make_the_search_unavailable():
    with pytest.raises(Unavailable, match="could not fetch products: .* failed: HTTP 503"):
        paginate(FailingES(), "i", SearchRequest(q="x"), QUERY, ["a"], ApiSettings())


def test_an_empty_eligible_set_costs_no_request():
    page = paginate(FailingES(), "i", SearchRequest(q="x", facets=("brand",)), None, [], ApiSettings())
    assert (page.ids, page.total, page.facets) == ([], 0, {"brand": []})
