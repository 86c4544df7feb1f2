"""Event validation: a bad batch is refused whole, naming each bad index and field."""

from datetime import UTC, datetime, timedelta

import pytest

from search_api.core.errors import InvalidEvents, InvalidParameter
from search_api.core.settings import ApiSettings
from search_api.http.auth import presented_key
from search_api.personal.events import parse_events, parse_history, parse_ts

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SETTINGS = ApiSettings(events_batch_max=3)


def event(**changes):
    base = {"user_id": "u1", "product_id": "P1", "action": "view", "source": "feed"}
    return {**base, **changes}


def test_valid_batch_with_defaults():
    events = parse_events([event(), event(action="order", ts="2026-11-25T11:00:00Z", dwell_ms=1500)],
                          now=NOW, settings=SETTINGS)
    assert events[0].ts == NOW and events[0].dwell_ms is None
    assert events[1].action == "order" and events[1].ts == datetime(2026, 11, 25, 11, tzinfo=UTC)
    assert events[1].dwell_ms == 1500


@pytest.mark.parametrize(("bad", "field"), [
    ({"action": "like"}, "action"), ({"user_id": ""}, "user_id"), ({"product_id": None}, "product_id"),
    ({"source": "tv"}, "source"), ({"ts": "yesterday"}, "ts"), ({"dwell_ms": -1}, "dwell_ms"),
    ({"ts": (NOW + timedelta(hours=1)).isoformat()}, "ts"), ({"ts": "2020-01-01T00:00:00Z"}, "ts"),
    ({"productId": "P1"}, "productId"), ({"user_id": 7}, "user_id"),
])
def test_invalid_event_names_index_and_field(bad, field):
    with pytest.raises(InvalidEvents) as caught:
        parse_events([event(), event(**bad)], now=NOW, settings=SETTINGS)
    body = caught.value.body()["error"]
    assert body["code"] == "invalid_events" and body["index"] == 1 and body["field"] == field
    assert body["rejected"] == [{"index": 1, "field": field, "message": body["rejected"][0]["message"]}]


@pytest.mark.parametrize(("bad", "field"), [
    ({"dwell_ms": float("inf")}, "dwell_ms"), ({"dwell_ms": float("nan")}, "dwell_ms"), ({"dwell_ms": 1.5}, "dwell_ms"),
    ({"dwell_ms": "1500"}, "dwell_ms"), ({"dwell_ms": True}, "dwell_ms"), ({"ts": float("inf")}, "ts"),
    ({"ts": 1e300}, "ts"), ({"ts": True}, "ts"), ({"user_id": "u" * 129}, "user_id"), ({"action": None}, "action"),
])
def test_values_lax_coercion_or_overflow_would_let_through_are_refused(bad, field):
    with pytest.raises(InvalidEvents) as caught:
        parse_events([event(**bad)], now=NOW, settings=SETTINGS)
    problem = caught.value.body()["error"]["rejected"][0]
    assert problem["field"] == field and problem["message"].startswith(f"{field} ")


def test_whole_numbers_and_padded_ids_are_accepted_as_before():
    [stored] = parse_events([event(dwell_ms=1500.0, user_id=" u1 ", ts=NOW.timestamp() * 1000)], now=NOW,
                            settings=SETTINGS)
    assert (stored.dwell_ms, stored.user_id, stored.ts) == (1500, "u1", NOW)


def test_a_full_batch_reports_every_bad_index():
    settings = ApiSettings(events_batch_max=1000)
    batch = [event(action="like") if i % 100 == 7 else event() for i in range(1000)]
    with pytest.raises(InvalidEvents) as caught:
        parse_events(batch, now=NOW, settings=settings)
    assert [p["index"] for p in caught.value.body()["error"]["rejected"]] == list(range(7, 1000, 100))
    assert len(parse_events([event()] * 1000, now=NOW, settings=settings)) == 1000


def test_every_bad_event_is_reported():
    with pytest.raises(InvalidEvents) as caught:
        parse_events([event(action="x"), event(), "nope"], now=NOW, settings=SETTINGS)
    assert [(p["index"], p["field"]) for p in caught.value.body()["error"]["rejected"]] == [
        (0, "action"), (2, "event")]


def test_batch_limit_and_shape():
    with pytest.raises(InvalidParameter, match="at most 3") as caught:
        parse_events([event()] * 4, now=NOW, settings=SETTINGS)
    assert caught.value.field == "body"
    with pytest.raises(InvalidParameter):
        parse_events({"user_id": "u"}, now=NOW, settings=SETTINGS)


def test_timestamps_iso_naive_and_epoch_millis():
    assert parse_ts("2026-11-25T12:00:00") == NOW
    assert parse_ts(NOW.timestamp() * 1000) == NOW
    assert parse_ts("2026-11-25T20:00:00+08:00") == NOW


def test_history_defaults_and_field_paths():
    history = parse_history([{"product_id": "P1"}], now=NOW, settings=SETTINGS)
    assert history[0].action == "view" and history[0].ts == NOW
    with pytest.raises(InvalidEvents) as caught:
        parse_history([{"product_id": "P1"}, {"product_id": "P2", "action": "stare"}], now=NOW,
                      settings=SETTINGS)
    assert caught.value.field == "history[1].action"


def test_presented_key():  # who it belongs to: tests/api/test_access.py
    assert presented_key({"X-API-Key": " k "}) == "k"
    assert presented_key({"Authorization": "Bearer k"}) == "k"
    assert presented_key({"Authorization": "Basic k"}) is None and presented_key({}) is None
