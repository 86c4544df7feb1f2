import json

import pytest
from pydantic import ValidationError

from indexer.catalog.validate import brand_keyword_from_row, product_from_row
from indexer.core.errors import ConfigError
from indexer.embedding.embedder import check_template, document_text
from indexer.sample import generate
from indexer.sample.data import LEAVES
from search_api.core.settings import ApiSettings


def test_sample_is_deterministic_and_valid(tmp_path):
    a = generate.write(tmp_path / "a", 500, seed=3)
    b = generate.write(tmp_path / "b", 500, seed=3)
    assert a["products"].read_bytes() == b["products"].read_bytes()
    rows = [json.loads(line) for line in a["products"].read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 500
    products = [product_from_row(r) for r in rows]
    assert all(p.title_lang == "zh" and p.title_en for p in products)
    keywords = [brand_keyword_from_row(json.loads(line))
                for line in a["brand_keywords"].read_text(encoding="utf-8").splitlines()]
    assert len({k.brand_id for k in keywords}) >= 300
    assert any(k.keyword == "抱枕" and k.match == "contains" for k in keywords)


def test_sample_has_enough_leaf_categories():
    assert len({leaf[0] for leaf in LEAVES}) >= 30
    assert any(leaf[0][-1] == "抱枕" for leaf in LEAVES)


def test_settings_from_env_validates():
    s = ApiSettings.from_env({"ES_URL": "http://es:9200", "STORESEARCH_PREFIX": "shop1",
                           "STORESEARCH_MODEL_LANGUAGES": "en, zh"})
    assert (s.es_url, s.products_alias, s.model_languages) == ("http://es:9200", "shop1-products", ("en", "zh"))
    with pytest.raises(ConfigError, match="STORESEARCH_PREFIX"):
        ApiSettings.from_env({"STORESEARCH_PREFIX": "Bad Prefix"})
    with pytest.raises(ConfigError, match="STORESEARCH_RRF_K"):
        ApiSettings.from_env({"STORESEARCH_RRF_K": "zero"})


def test_embed_template():
    p = product_from_row({"id": "1", "title": "孕妇抱枕", "title_en": "Pregnancy pillow", "brand": "Acme",
                          "category": ["母婴", "孕妇枕"]})
    text = document_text(p, "{title_en}. {title}. {brand}. {color}. {category}")
    assert text.startswith("Pregnancy pillow. 孕妇抱枕. Acme") and ". ." not in text
    with pytest.raises(ConfigError, match="unknown fields"):
        check_template("{title} {nonsense}")


def test_read_side_settings_extend_the_shared_ones():
    from indexer.core.config import Settings

    with pytest.raises(ValidationError):  # the indexer does not know read-side knobs
        Settings(sync_seconds=0)
    api = ApiSettings.from_env({"STORESEARCH_PREFIX": "shop2", "STORESEARCH_ACTION_WEIGHTS": "order=10"})
    assert isinstance(api, Settings) and api.events_alias == "shop2-events"
    assert dict(api.action_weights)["order"] == 10 and dict(api.action_weights)["view"] == 1
    assert ApiSettings.from_env({"STORESEARCH_EVENTS_PREFIX": "bench"}).events_alias == "bench-events"
    with pytest.raises(ConfigError, match="STORESEARCH_ACTION_WEIGHTS: unknown action 'buy'"):
        ApiSettings.from_env({"STORESEARCH_ACTION_WEIGHTS": "buy=3"})
    with pytest.raises(ConfigError, match="STORESEARCH_KEYWORD_CANDIDATES: .*1000.*got '5000'"):
        ApiSettings.from_env({"STORESEARCH_KEYWORD_CANDIDATES": "5000"})
    with pytest.raises(ConfigError, match="STORESEARCH_MODEL_LANGUAGES"):
        ApiSettings.from_env({"STORESEARCH_MODEL_LANGUAGES": " , "})
    assert api.with_(rrf_k=10).rrf_k == 10
    with pytest.raises(ValidationError):
        api.with_(rrf_k=0)


def test_shards_and_replicas_from_env():
    from indexer.build.indexes import live_settings

    one_node = ApiSettings.from_env({})
    assert (one_node.shards, one_node.replicas) == (1, None)  # None: auto-expand 0-1, i.e. 0 on one node
    assert live_settings(None)["index"]["auto_expand_replicas"] == "0-1"
    cluster = ApiSettings.from_env({"STORESEARCH_SHARDS": "6", "STORESEARCH_REPLICAS": "1"})
    assert (cluster.shards, cluster.replicas) == (6, 1)
    assert live_settings(1)["index"] == {"refresh_interval": None, "auto_expand_replicas": "false",
                                         "number_of_replicas": 1}
    with pytest.raises(ConfigError, match="STORESEARCH_SHARDS"):
        ApiSettings.from_env({"STORESEARCH_SHARDS": "0"})
    with pytest.raises(ConfigError, match="STORESEARCH_REPLICAS"):
        ApiSettings.from_env({"STORESEARCH_REPLICAS": "two"})


def test_es_url_may_name_several_nodes():
    from indexer.core.es import make_client

    client = make_client(ApiSettings(es_url="http://127.0.0.1:9250, http://127.0.0.1:9251,http://127.0.0.1:9252"))
    assert sorted(node.port for node in client.transport.node_pool.all()) == [9250, 9251, 9252]
