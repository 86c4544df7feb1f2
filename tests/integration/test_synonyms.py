"""Synonyms on the real stack: the sample build, real Elasticsearch, the Flask app and the real model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from indexer.build.pipeline import BuildOptions, build
from search_api.http.app import create_app
from search_api.http.schemas import SearchAnswer
from search_api.retrieval import hybrid, keyword
from search_api.retrieval.params import parse_search
from search_api.retrieval.runtime import Runtime
from search_api.synonyms.expansion import NOTHING
from search_api.synonyms.store import SynonymStore

pytestmark = pytest.mark.integration


class Recording:
    """The real client, keeping the keyword arguments of every search (Elasticsearch still answers)."""

    def __init__(self, es: Any) -> None:
        self.es, self.searches = es, []

    def search(self, **kwargs: Any) -> Any:
        self.searches.append(kwargs)
        return self.es.search(**kwargs)

    def options(self, **kwargs: Any) -> Recording:
        """A budgeted leg's client (`request_timeout`) records into the same list."""
        bounded = Recording(self.es.options(**kwargs))
        bounded.searches = self.searches
        return bounded

    def __getattr__(self, name: str) -> Any:
        return getattr(self.es, name)


@pytest.fixture(scope="module")
def rt(sample_index, model, es):
    return Runtime(sample_index.settings, embedder=model, es=es)  # the default file + brand-keyword aliases


@pytest.fixture(scope="module")
def rt_off(sample_index, model, es):
    return Runtime(sample_index.settings.with_(synonyms_file=None), embedder=model, es=es)


def _search(runtime: Runtime, q: str, **params: str) -> dict[str, Any]:
    return hybrid.search(runtime, parse_search({"q": q, "mode": "keyword", "size": "100", **params}))


def _line_of(path: Path, rule: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line == rule)


def test_a_synonym_finds_products_the_query_did_not(rt, rt_off):
    assert _search(rt_off, "couch")["results"] == []  # the sample sells "sofa pillow"s, never a couch
    found = _search(rt, "couch")["results"]
    assert found and all("sofa" in r["title_en"].lower() for r in found)
    before, after = _search(rt_off, "靠垫"), _search(rt, "靠垫")
    assert before["results"] and not any(r["category"][-1] == "抱枕" for r in before["results"])  # mats, through 垫
    assert after["results"][0]["category"][-1] == "抱枕" and after["meta"]["total"] > before["meta"]["total"]


@pytest.mark.parametrize(("typed", "synonym", "field"), [
    ("yoga mat", "exercise mat", "title_en"), ("exercise mat", "yoga mat", "title_en"),
    ("瑜伽垫", "健身垫", "title"), ("健身垫", "瑜伽垫", "title"),
])
def test_the_words_as_typed_rank_above_their_synonyms(sample_index, model, es, typed, synonym, field):
    file_only = Runtime(sample_index.settings, embedder=model, es=es)
    # the default file's rules alone: the sample's brand aliases (瑜伽垫 ⇔ yoga mat) would favour the typed words
    file_only.__dict__["synonyms"] = SynonymStore(sample_index.settings.synonyms_file)
    titles = [r[field].lower() for r in _search(file_only, typed)["results"]]
    as_typed = [i for i, t in enumerate(titles) if typed in t]
    synonym_only = [i for i, t in enumerate(titles) if synonym in t and typed not in t]
    assert as_typed and synonym_only and max(as_typed) < min(synonym_only), titles


def test_a_query_without_synonyms_sends_the_same_body_and_gets_the_same_answer(sample_index, model, es, rt, rt_off):
    recording = Recording(es)
    with_synonyms = Runtime(sample_index.settings, embedder=model, es=recording)
    live = rt.replica.current()
    for q in ("memory foam", "记忆棉 乳胶", "sea salt 五香"):
        assert with_synonyms.synonyms.expand(q, live.index) is NOTHING
        req = parse_search({"q": q, "mode": "hybrid", "size": "10", "understand": "false"})  # "memory foam": a material
        answer = hybrid.search(with_synonyms, req)
        assert {"index": live.index, **keyword.keyword_body(req, size=100)} in recording.searches
        off = hybrid.search(rt_off, req)
        assert answer["results"] == off["results"] and answer["meta"]["total"] == off["meta"]["total"]
    hybrid.search(with_synonyms, parse_search({"q": "couch", "mode": "keyword"}))
    # "couch" matches too little as typed, so its variants were searched: the test can tell a changed body
    assert any("dis_max" in str(s.get("query")) for s in recording.searches)


def test_explain_names_the_rule_that_fired(sample_index, model, es, rt):
    client = create_app(runtime=rt).test_client()
    body = client.get("/search", query_string={"q": "couches", "explain": "true"}).get_json()
    line = _line_of(sample_index.settings.synonyms_file, "sofa, couch")
    assert body["meta"]["synonyms"] == [{"matched": "couch", "added": ["sofa"], "rule": f"synonyms.txt:{line}"}]
    SearchAnswer.model_validate(body)
    assert "synonyms" not in client.get("/search", query_string={"q": "couches"}).get_json()["meta"]
    assert client.get("/search", query_string={"q": "memory foam", "explain": "true"}).get_json()["meta"]["synonyms"] == []


@pytest.fixture(scope="module")
def brands_index(es, isolated_module, model, tmp_path_factory):
    """Products with a title in one language only, and brand keywords whose aliases are in the other."""
    root = tmp_path_factory.mktemp("brand-aliases")
    products, keywords = root / "p.jsonl", root / "k.jsonl"
    products.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [
        {"id": "zh1", "title": "美的智能电饭煲", "brand": "美的"}, {"id": "zh2", "title": "星禾乳胶枕头", "brand": "星禾"},
        {"id": "en1", "title": "Acme travel neck pillow", "brand": "Acme"},
        {"id": "en2", "title": "Zenith memory foam pillow", "brand": "Zenith"}]), encoding="utf-8")
    keywords.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [
        {"id": "kw-midea", "keyword": "美的", "aliases": ["Midea"], "brand": "美的", "brand_id": "B1"},
        {"id": "kw-acme", "keyword": "艾克美", "aliases": ["Acme"], "brand": "Acme", "brand_id": "B2"}]),
        encoding="utf-8")
    build(isolated_module, es, model, BuildOptions(products=(products,), brand_keywords=(keywords,), progress=False))
    return isolated_module.with_(synonyms_file=None)  # brand-keyword aliases only


@pytest.mark.parametrize(("q", "expected", "rule"), [
    ("midea", "zh1", "brand-keyword:kw-midea"), ("艾克美", "en1", "brand-keyword:kw-acme")])
def test_a_brand_keyword_and_its_aliases_find_each_other(brands_index, es, model, q, expected, rule):
    runtime = Runtime(brands_index, embedder=model, es=es)
    before = keyword.search(es, runtime.replica.current().index, parse_search({"q": q}), size=100)
    assert before.ids == []  # no product spells the brand this way (and Midea is not 美的's pinyin)
    answer = _search(runtime, q, explain="true")
    assert [r["id"] for r in answer["results"]] == [expected]
    assert [f["rule"] for f in answer["meta"]["synonyms"]] == [rule]
