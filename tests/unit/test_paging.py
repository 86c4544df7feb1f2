"""Filter, sort and page steps, against a stand-in Elasticsearch that records its calls."""

import pytest

from indexer.core.errors import EngineError
from search_api.core.errors import Unavailable
from search_api.retrieval.paging import filtered_order, paginate, sort_by
from search_api.retrieval.params import Mode, SearchRequest, Sort


class FakeES:
    """`eligible` and `display` round trips over a dict of documents (hidden ones left out)."""

    def __init__(self, docs, fail=None):
        self.docs, self.fail, self.calls = docs, fail, []

    def search(self, *, index, size, stored_fields, docvalue_fields, query):
        self.calls.append("search")
        if self.fail == "search":
            raise EngineError("filtering candidates failed: HTTP 503")
        ids = query["bool"]["filter"][0]["terms"]["id"]
        hits = [{"fields": {"id": [i], **{f: [self.docs[i][f]] for f in ("price", "sales", "rating")
                                          if f in self.docs[i]}}} for i in ids if i in self.docs]
        return {"hits": {"hits": hits}}

    def mget(self, *, index, ids, _source):
        self.calls.append(("mget", list(ids)))
        if self.fail == "mget":
            raise EngineError("fetching products failed: HTTP 503")
        return {"docs": [{"_id": i, "found": i in self.docs, "_source": self.docs.get(i)} for i in ids]}


def test_sort_by_field_puts_missing_values_last_and_keeps_relevance_on_ties():
    values = {"a": {"price": 5}, "b": {}, "c": {"price": 1}, "d": {"price": 5}}
    assert sort_by(["a", "b", "c", "d"], values, Sort.PRICE_ASC) == ["c", "a", "d", "b"]
    assert sort_by(["a", "b", "c", "d"], values, Sort.PRICE_DESC) == ["a", "d", "c", "b"]
    assert sort_by(["b", "a"], values, Sort.RELEVANCE) == ["b", "a"]


def test_keyword_relevance_order_skips_the_filter_round_trip():
    es = FakeES({})
    assert filtered_order(es, "i", SearchRequest(q="x", mode=Mode.KEYWORD), ["a", "b"]) == ["a", "b"]
    assert es.calls == []


def test_other_orders_drop_ineligible_candidates_then_sort():
    es = FakeES({"a": {"sales": 1}, "c": {"sales": 9}})
    req = SearchRequest(q="x", mode=Mode.KEYWORD, sort=Sort.SALES)
    assert filtered_order(es, "i", req, ["a", "b", "c"]) == ["c", "a"]
    assert filtered_order(es, "i", SearchRequest(q="x"), ["c", "b", "a"]) == ["c", "a"]


def test_paginate_fetches_only_the_page():
    es = FakeES({d: {"title": d} for d in "abcde"})
    page = paginate(es, "i", SearchRequest(q="x", size=2, offset=1), list("abcdef"))
    assert page.ordered == list("abcde") and page.ids == ["b", "c"]
    assert page.docs == {"b": {"title": "b"}, "c": {"title": "c"}}
    assert es.calls[-1] == ("mget", ["b", "c"])


@pytest.mark.parametrize("fail", ["search", "mget"])
def test_engine_failures_while_paging_make_the_search_unavailable(fail):
    with pytest.raises(Unavailable, match="could not fetch products: .* failed: HTTP 503"):
        paginate(FakeES({"a": {}}, fail=fail), "i", SearchRequest(q="x"), ["a"])
