"""Bulk item answers: one error formatter, and positions that survive the 429 retries of `bulk_append`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from indexer.core.es import error_reason
from indexer.store import bulk

REFUSED = {"type": "document_parsing_exception", "reason": "failed to parse field [dwell_ms]",
           "caused_by": {"type": "illegal_argument_exception", "reason": "Value [1000] is out of range"}}


def test_error_reason_is_type_reason_and_cause():
    assert error_reason(REFUSED) == ("document_parsing_exception: failed to parse field [dwell_ms] "
                                     "(caused by illegal_argument_exception: Value [1000] is out of range)")
    assert error_reason({"type": "version_conflict_engine_exception", "reason": "exists"}) == (
        "version_conflict_engine_exception: exists")
    assert error_reason("status 500") == "status 500"


class Node:
    """Answers each attempt from a script: position → status (201 when not scripted)."""

    def __init__(self, script: list[dict[int, int]]) -> None:
        self.script = script
        self.sent: list[list[int]] = []
        self.params: list[dict[str, Any]] = []

    def results(self, es: Any, actions: Any, *, chunk_size: int, max_retries: int,
                **params: Any) -> Iterator[tuple[bool, dict[str, Any]]]:
        assert max_retries == 0  # the helper's retry would reorder the answers
        positions = [action["_source"]["n"] for action in actions]
        assert chunk_size == len(positions)  # one request per attempt
        answers = self.script[len(self.sent)]
        self.sent.append(positions)
        self.params.append(params)
        for n in positions:
            status = answers.get(n, 201)
            info: dict[str, Any] = {"_id": f"id{n}", "status": status}
            if status >= 300:
                info["error"] = REFUSED if status == 400 else {"type": "es_rejected_execution_exception",
                                                               "reason": "queue full"}
            yield status < 300, info


def append(monkeypatch: pytest.MonkeyPatch, node: Node, n: int, retries: int) -> bulk.BulkReport:
    monkeypatch.setattr(bulk, "_results", node.results)
    docs = [(f"events-{i % 2}", {"n": i}) for i in range(n)]
    return bulk.bulk_append(None, docs, what="writing events", refresh="wait_for", retries=retries,  # type: ignore[arg-type]
                            backoff_s=0)


def test_retried_items_keep_their_position(monkeypatch):
    node = Node([{1: 429, 2: 400, 3: 429}, {3: 429}, {}])
    report = append(monkeypatch, node, 5, retries=2)
    assert node.sent == [[0, 1, 2, 3, 4], [1, 3], [3]]
    assert node.params == [{"refresh": "wait_for"}] * 3
    assert report.written == 4
    assert [(f.position, f.status, f.id) for f in report.failures] == [(2, 400, "id2")]
    assert report.failures[0].reason == error_reason(REFUSED)


def test_429_after_the_last_retry_is_a_failure_and_failures_come_in_batch_order(monkeypatch):
    node = Node([{0: 429, 1: 429, 2: 400}, {0: 429, 1: 400}])
    report = append(monkeypatch, node, 4, retries=1)
    assert node.sent == [[0, 1, 2, 3], [0, 1]]
    assert report.written == 1
    assert [(f.position, f.status) for f in report.failures] == [(0, 429), (1, 400), (2, 400)]
    assert report.failures[0].reason == "es_rejected_execution_exception: queue full"
