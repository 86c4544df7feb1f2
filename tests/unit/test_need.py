"""`need`: a missing dependency fails the run in CI and is a clear skip elsewhere."""

from __future__ import annotations

import pytest

from tests import conftest
from tests.conftest import need


def test_a_met_need_lets_the_test_go_on(monkeypatch):
    for in_ci in (False, True):
        monkeypatch.setattr(conftest, "IN_CI", in_ci)
        need(True, "present")


def test_outside_ci_a_missing_dependency_skips_with_the_reason(monkeypatch):
    monkeypatch.setattr(conftest, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="^ESCI data not found at /x$"):
        need(False, "ESCI data not found at /x")


def test_in_ci_a_missing_dependency_fails(monkeypatch):
    monkeypatch.setattr(conftest, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="^missing in CI: ESCI data not found at /x$"):
        need(False, "ESCI data not found at /x")
