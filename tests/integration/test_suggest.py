"""`GET /suggest` on the sample catalog through the real stack (build, Elasticsearch, HTTP)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from indexer.build import pipeline
from indexer.build.pipeline import BuildOptions, build
from indexer.core.errors import BuildError, VerificationError
from indexer.index_format import normalize
from indexer.store.versions import alias_target
from search_api.http import suggest_schemas
from search_api.http.app import create_app
from search_api.retrieval.runtime import Runtime

pytestmark = pytest.mark.integration
KEY = {"X-API-Key": "secret"}


@pytest.fixture(scope="module")
def client(sample_index, isolated_module, model, es):
    settings = sample_index.settings.with_(api_key="secret", events_prefix=isolated_module.prefix)
    yield create_app(runtime=Runtime(settings, embedder=model, es=es)).test_client()
    es.options(ignore_status=404).indices.delete_index_template(name=f"{isolated_module.prefix}-events")


def suggest(client, q, **extra):
    got = client.get("/suggest", query_string={"q": q, **extra})
    assert got.status_code == 200, got.get_json()
    suggest_schemas.SuggestAnswer.model_validate(got.get_json())  # the published contract
    return got.get_json()


def texts(body):
    return [s["text"] for s in body["suggestions"]]


def test_built_with_the_version_and_swapped_with_it(es, sample_index):
    report = sample_index.report
    assert alias_target(es, sample_index.settings.suggestions_alias) == report.suggestions_index
    assert report.suggestions_index.endswith(report.version) and report.suggestions > 100


@pytest.mark.parametrize("q", ["抱", "bz", "baozhen", "bao zhen", "bao zh"])
def test_chinese_characters_and_pinyin_find_the_chinese_word(client, q):
    body = suggest(client, q)
    assert "抱枕" in texts(body), texts(body)
    assert body["meta"]["took_ms"] > 0 and body["meta"]["personal"] is False


def test_english_prefix_with_a_typo_after_the_third_letter(client):
    assert any(t.startswith("memory foam") for t in texts(suggest(client, "memroy fo")))
    assert not any(t.startswith("memory foam") for t in texts(suggest(client, "mmeory fo")))  # first three exact
    exact = texts(suggest(client, "memory fo"))
    assert exact[0].startswith("memory foam")


def test_short_phrases_not_whole_titles(client, sample_index):
    rows = [json.loads(line) for line in sample_index.products.read_text(encoding="utf-8").splitlines()]
    titles = {normalize(r[k]) for r in rows for k in ("title", "title_en")}
    shown = texts(suggest(client, "memory", size=20)) + texts(suggest(client, "飞机", size=20))
    assert shown and not titles.intersection(normalize(t) for t in shown)


def test_one_suggestion_per_normalised_text(client):
    body = suggest(client, "down", size=20)  # exact and one-typo completions overlap (down, down jacket, …)
    norms = [normalize(t) for t in texts(body)]
    assert len(norms) == len(set(norms)) > 1
    u = [t for t in texts(suggest(client, "u型", size=20)) if normalize(t) == "u型枕"]
    assert u == ["U型枕"]  # the category and the title phrase "u型枕" are one suggestion, shown as the category


def test_brand_keywords_name_their_owner(client, sample_index):
    keywords = [json.loads(line) for line in sample_index.brand_keywords.read_text(encoding="utf-8").splitlines()]
    owner = next(k for k in keywords if k["keyword"] == "抱枕")
    got = next(s for s in suggest(client, "抱")["suggestions"] if s["text"] == "抱枕")
    assert got["brand_keyword"]["brand_id"] == owner["brand_id"] and got["brand_keyword"]["brand"] == owner["brand"]
    brand = keywords[0]
    named = next(s for s in suggest(client, brand["keyword"])["suggestions"] if s["text"] == brand["keyword"])
    assert named["kind"] == "brand" and named["brand_keyword"]["brand_id"] == brand["brand_id"]
    expired = next(s for s in suggest(client, "靠", size=20)["suggestions"] if s["text"] == "靠枕")
    assert expired["brand_keyword"] is None  # 靠枕's keyword window ended in 2021


def test_personal_order_puts_the_shoppers_category_first(client, sample_index):
    rows = [json.loads(line) for line in sample_index.products.read_text(encoding="utf-8").splitlines()]
    coffee = [r["id"] for r in rows if r["category"][-1] == "咖啡" and r["status"] == "on_sale"][:15]
    now = datetime.now(UTC)
    events = [{"user_id": "coffee-fan", "product_id": pid, "action": "click", "source": "feed",
               "ts": (now - timedelta(minutes=i)).isoformat()} for i, pid in enumerate(coffee)]
    assert client.post("/events?refresh=wait_for", headers=KEY, json=events).status_code == 200
    plain = texts(suggest(client, "c", size=6))
    unknown = suggest(client, "c", size=6, user_id="nobody-at-all")
    mine = suggest(client, "c", size=6, user_id="coffee-fan")
    assert texts(unknown) == plain and unknown["meta"]["personal"] is False
    assert "coffee" not in plain[0] and "coffee" in texts(mine)[0] and mine["meta"]["personal"] is True
    brands = {r["brand"] for r in rows if r["category"][-1] == "咖啡"}  # brands selling coffee move up too
    moved = [t for t in texts(mine) if t not in plain]
    assert 0 < len(moved) <= 3 and all("coffee" in t or t in brands for t in moved)  # bounded: half of 6
    assert [t for t in texts(mine) if t not in moved] == [t for t in plain if t in texts(mine)]  # the rest in order


@pytest.mark.parametrize(("query", "field"), [
    ({}, "q"), ({"q": ""}, "q"), ({"q": " \t "}, "q"), ({"q": "a" * 65}, "q"), ({"q": "ab\x01"}, "q"),
    ({"q": "a", "size": "0"}, "size"), ({"q": "a", "size": "21"}, "size"), ({"q": "a", "size": "two"}, "size"),
])
def test_bad_input_is_a_400_naming_the_field(client, query, field):
    got = client.get("/suggest", query_string=query)
    assert got.status_code == 400
    assert got.get_json()["error"]["field"] == field and got.get_json()["error"]["code"] == "invalid_parameter"


def test_a_failed_build_leaves_no_suggestion_index(es, isolated, model, tmp_path, monkeypatch):
    catalog = tmp_path / "ok.jsonl"
    catalog.write_text("".join(json.dumps({"id": f"g{i}", "title": f"linen cushion {i}", "category": ["home", "cushions"]})
                               + "\n" for i in range(5)), encoding="utf-8")
    first = build(isolated, es, model, BuildOptions(products=(catalog,), progress=False))

    def refuse(*args, **kwargs):  # fault injection: the check that runs after the suggestions are written
        raise VerificationError("injected")

    monkeypatch.setattr(pipeline, "verify_products", refuse)
    with pytest.raises(BuildError, match="injected"):
        build(isolated, es, model, BuildOptions(products=(catalog,), reuse=False, progress=False))
    assert set(es.indices.get(index=f"{isolated.prefix}-suggestions-*")) == {first.suggestions_index}
    assert alias_target(es, isolated.suggestions_alias) == first.suggestions_index
