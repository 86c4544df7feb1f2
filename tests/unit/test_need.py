"""`need`: a missing dependency fails the run in CI and is a clear skip elsewhere."""

from __future__ import annotations

import pytest

from tests import conftest
from tests.conftest import need


def outcome(reason: str) -> BaseException:
    """What `need(False, reason)` raised: pytest's skip and fail are BaseExceptions, caught here as values.

    Caught rather than `pytest.raises`-ed so that a skip where a failure is due fails this test
    instead of skipping it.
    """
    try:
        need(False, reason)
    except BaseException as exc:  # noqa: BLE001 - the outcome is the value under test
        return exc
    raise AssertionError("need(False, ...) let the test go on")


def test_a_met_need_lets_the_test_go_on(monkeypatch):
    for in_ci in (False, True):
        monkeypatch.setattr(conftest, "IN_CI", in_ci)
        need(True, "present")


def test_outside_ci_a_missing_dependency_skips_with_the_reason(monkeypatch):
    monkeypatch.setattr(conftest, "IN_CI", False)
    skipped = outcome("ESCI data not found at /x")
    assert isinstance(skipped, pytest.skip.Exception) and skipped.msg == "ESCI data not found at /x"


def test_in_ci_a_missing_dependency_fails(monkeypatch):
    monkeypatch.setattr(conftest, "IN_CI", True)
    failed = outcome("ESCI data not found at /x")
    assert isinstance(failed, pytest.fail.Exception) and failed.msg == "missing in CI: ESCI data not found at /x"
