"""Bulk item answers: one error formatter for refused items and refused requests."""

from __future__ import annotations

from indexer.core.es import error_reason

REFUSED = {"type": "document_parsing_exception", "reason": "failed to parse field [dwell_ms]",
           "caused_by": {"type": "illegal_argument_exception", "reason": "Value [1000] is out of range"}}


def test_error_reason_is_type_reason_and_cause():
    assert error_reason(REFUSED) == ("document_parsing_exception: failed to parse field [dwell_ms] "
                                     "(caused by illegal_argument_exception: Value [1000] is out of range)")
    assert error_reason({"type": "version_conflict_engine_exception", "reason": "exists"}) == (
        "version_conflict_engine_exception: exists")
    assert error_reason("status 500") == "status 500"
