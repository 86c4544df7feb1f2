"""The HTTP layer's pure guards: JSON limits, path ids, opaque 5xx messages, settings."""

from __future__ import annotations

import pytest

from indexer.index_format import ConfigError
from search_api.core.errors import InvalidJson, InvalidParameter, Unavailable
from search_api.core.settings import ApiSettings
from search_api.http import path_ids
from search_api.http.json_body import parse_json


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [10, 33, 1025, 10_000, 100_000])
def test_deep_bodies_are_invalid_json_not_a_recursion_error(depth):
    with pytest.raises(InvalidJson) as caught:
        parse_json(nested(depth), max_depth=9)
    assert caught.value.field == "body" and caught.value.code == "invalid_json"


def test_depth_counts_containers_of_both_kinds():
    body = b'{"personas": [{"history": [{"product_id": "P1"}]}]}'  # 5 levels, like an audit request
    assert parse_json(body, max_depth=5) == {"personas": [{"history": [{"product_id": "P1"}]}]}
    with pytest.raises(InvalidJson):
        parse_json(body, max_depth=4)
    assert parse_json(b'"x"', max_depth=2) == "x" and parse_json(b"[[]]", max_depth=2) == [[]]


@pytest.mark.parametrize("body", [b'{"size": NaN}', b'{"size": Infinity}', b'{"size": -Infinity}',
                                  b'{"price_min": 1e400}', b'[-1e400]', b"[" + b"9" * 400 + b"]",
                                  '{"q": "枕头", "x": [Infinity]}'.encode()])
def test_non_finite_numbers_are_invalid_json(body):
    with pytest.raises(InvalidJson, match="NaN, Infinity"):
        parse_json(body, max_depth=32)


@pytest.mark.parametrize("body", [b"{", b"", b"nope", b'{"a": 1,}', b'["\xff"]', b'["\\ud800"]'])
def test_malformed_bodies_stay_plain_value_errors(body):
    # the route that asked says what it expected (e.g. "body must be a JSON object")
    with pytest.raises(ValueError) as caught:
        parse_json(body, max_depth=32)
    assert not isinstance(caught.value, InvalidJson)


def test_ordinary_numbers_survive():
    assert parse_json(b'{"a": 1.5e300, "b": -2, "c": 0.1}', max_depth=2) == {"a": 1.5e300, "b": -2, "c": 0.1}


@pytest.mark.parametrize("value", ["u1", "用户-7", "a" * 128, "mail@example.com"])
def test_user_ids_events_accept_pass(value):
    assert path_ids.user_id(value) == value


@pytest.mark.parametrize("value", ["a" * 129, "a" * 40_000, " ", "a\x00b", "a\nb", "\ud800"])
def test_odd_user_ids_are_400_naming_user_id(value):
    with pytest.raises(InvalidParameter) as caught:
        path_ids.user_id(value)
    assert caught.value.field == "user_id" and caught.value.status == 400


def test_audit_ids():
    assert path_ids.audit_id("a20261129t220557123456") == "a20261129t220557123456"
    for bad, field in [("a" * 65, "id"), ("x y", "id"), ("../etc", "base"), ("", "head"), ("a" * 10_000, "id")]:
        with pytest.raises(InvalidParameter) as caught:
            path_ids.audit_id(bad, field)
        assert caught.value.field == field


def test_unavailable_answers_a_generic_message():
    error = Unavailable("search index unavailable: HTTP 400 x_content_parse_exception: Term is longer than ...")
    assert error.body() == {"error": {"code": "unavailable",
                                      "message": "the service is temporarily unavailable; try again later"}}
    assert "x_content_parse_exception" in error.message  # kept for the log
    assert InvalidParameter("size must be 1-100", field="size").body()["error"]["message"] == "size must be 1-100"


def test_cors_origins_setting():
    settings = ApiSettings.from_env({"STORESEARCH_CORS_ORIGINS": "https://Shop.example, http://localhost:3000"})
    assert settings.cors_origins == ("https://shop.example", "http://localhost:3000")
    assert ApiSettings().cors_origins == ()
    for bad in ["*", "https://shop.example/", "https://*.shop.example", "shop.example"]:
        with pytest.raises(ConfigError, match="STORESEARCH_CORS_ORIGINS"):
            ApiSettings.from_env({"STORESEARCH_CORS_ORIGINS": bad})


def test_body_limits_are_settings():
    settings = ApiSettings.from_env({"STORESEARCH_MAX_BODY_BYTES": "65536", "STORESEARCH_MAX_JSON_DEPTH": "8"})
    assert (settings.max_body_bytes, settings.max_json_depth) == (65536, 8)
    with pytest.raises(ConfigError, match="STORESEARCH_MAX_JSON_DEPTH"):
        ApiSettings.from_env({"STORESEARCH_MAX_JSON_DEPTH": "100000"})
