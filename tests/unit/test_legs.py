"""Leg statuses render to exactly the strings `meta.legs` has always carried."""

from datetime import UTC, datetime

import numpy as np
import pytest

from search_api.personal.profile import EMPTY, Profile
from search_api.retrieval.legs import LegResult, LegState, LegStatus, Retrieved, in_leg_order


def known_profile():
    return Profile(np.ones(2, dtype=np.float32), (("B", 1.0),), (), 3, 2, datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(("status", "text"), [
    (LegStatus(LegState.OK), "ok"),
    (LegStatus(LegState.PERSONALISED), "ok (personalised)"),
    (LegStatus(LegState.NO_HISTORY), "no history"),
    (LegStatus.skip("model does not cover zh"), "skipped: model does not cover zh"),
    (LegStatus.failure("ConnectionError"), "failed: ConnectionError"),
    (LegStatus.failure(""), "failed: "),  # an exception without a message still says "failed: "
])
def test_status_renders_the_contract_string(status, text):
    assert status.render() == text


def test_failed_and_skipped_are_states_not_prefixes():
    assert LegStatus.failure("x").failed and not LegStatus.failure("x").skipped
    assert LegStatus.skip("x").skipped and not LegStatus.skip("x").failed
    assert not LegStatus(LegState.OK).failed and not LegStatus(LegState.OK).skipped
    assert not LegStatus.skip("failed: looks like a failure").failed  # the detail never decides


def test_a_detail_on_a_state_that_never_shows_it_is_refused():
    with pytest.raises(ValueError):
        LegStatus(LegState.OK, "lost")


def test_statuses_come_out_in_meta_order_whatever_order_legs_finished_in():
    statuses = {"profile": LegStatus(LegState.OK), "keyword": LegStatus(LegState.PERSONALISED),
                "personal": LegStatus(LegState.OK), "semantic": LegStatus.skip("model does not cover zh")}
    assert list(in_leg_order(statuses)) == ["personal", "semantic", "keyword", "profile"]


def test_retrieved_lists_failures_in_meta_order_and_personalises_only_with_known_products():
    retrieved = Retrieved(in_leg_order({"keyword": LegStatus.failure("down"), "semantic": LegStatus(LegState.OK),
                                        "personal": LegStatus.failure("events down")}),
                          {"semantic": LegResult(["a"], [1.0])})
    assert retrieved.failed == ["personal", "keyword"]
    assert retrieved.profile_asked and retrieved.personal is None
    assert Retrieved({}, {}, EMPTY).personal is None
    profile = known_profile()
    assert Retrieved({}, {}, profile).personal is profile and not Retrieved({}, {}, profile).profile_asked
