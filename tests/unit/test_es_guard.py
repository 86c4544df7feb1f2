"""The read side's Elasticsearch client against real sockets on loopback: refused, unanswered, silent."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from elastic_transport import ConnectionError, ConnectionTimeout
from elasticsearch import ApiError

from indexer.core.errors import EngineError
from indexer.index_format import engine_errors
from search_api.core.breaker import Breaker, State
from search_api.core.settings import ApiSettings
from search_api.retrieval.es_guard import CircuitOpen, search_client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def client(port: int, breaker: Breaker, **settings):  # type: ignore[no-untyped-def]
    return search_client(ApiSettings(es_url=f"http://127.0.0.1:{port}", **settings), breaker)


class FakeElasticsearch(BaseHTTPRequestHandler):
    """Answers every GET like a node's root endpoint; counts requests."""

    hits = 0
    status = 200
    delay = 0.0
    shards_failed = 0  # what a search (the breaker's probe) is told
    shards_total = 1

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).hits += 1
        time.sleep(self.delay)
        body = json.dumps({"name": "fake", "cluster_name": "c", "version": {"number": "8.19.8"},
                           "_shards": {"total": self.shards_total,
                                       "successful": self.shards_total - self.shards_failed,
                                       "failed": self.shards_failed}}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_es_on() -> Iterator:  # type: ignore[type-arg]
    servers: list[ThreadingHTTPServer] = []

    def start(port: int) -> type[FakeElasticsearch]:
        handler = type("Handler", (FakeElasticsearch,), {"hits": 0})
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return handler

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_refused_connections_open_the_circuit_then_calls_fail_without_the_network(fake_es_on):
    port = free_port()
    breaker = Breaker(failures=2, reset_s=0.3)
    es = client(port, breaker)
    for _ in range(2):
        with pytest.raises(ConnectionError):
            es.info()
    assert breaker.state is State.OPEN
    handler = fake_es_on(port)  # Elasticsearch is back, but the circuit is still open
    started = time.monotonic()
    with pytest.raises(CircuitOpen):
        es.info()
    assert time.monotonic() - started < 0.05 and handler.hits == 0
    with pytest.raises(EngineError, match="Elasticsearch unreachable"), engine_errors("keyword search"):
        es.info()
    time.sleep(0.3)  # the behaviour under test: the breaker lets a probe through only after reset_s
    assert es.info()["name"] == "fake" and handler.hits == 1  # the probe got through and closed it
    assert breaker.state is State.CLOSED


def test_a_host_that_never_completes_the_handshake_fails_at_the_connect_timeout():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        filler = socket.create_connection(("127.0.0.1", port))  # fills the accept queue: later SYNs are dropped
        breaker = Breaker(failures=1, reset_s=60)
        es = client(port, breaker, es_connect_timeout_ms=200, request_timeout_s=30)
        started = time.monotonic()
        with pytest.raises(ConnectionTimeout):
            es.info()
        elapsed = time.monotonic() - started
        filler.close()
    assert 0.19 <= elapsed < 1.0, elapsed  # not the 30 s request timeout, and not retried
    assert breaker.state is State.OPEN  # could not connect: counts


def test_a_slow_answer_times_out_without_opening_the_circuit():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        accepted: list[socket.socket] = []
        threading.Thread(target=lambda: [accepted.append(server.accept()[0]) for _ in range(3)], daemon=True).start()
        breaker = Breaker(failures=1, reset_s=60)
        es = client(port, breaker, request_timeout_s=0.2)
        for _ in range(2):
            started = time.monotonic()
            with pytest.raises(ConnectionTimeout):
                es.info()
            assert time.monotonic() - started < 0.6  # no timeout retries (was up to 4 × the timeout)
        assert breaker.state is State.CLOSED  # connected, just slow: not an outage
        started = time.monotonic()
        with pytest.raises(ConnectionTimeout):
            es.options(request_timeout=0.1).info()
        assert time.monotonic() - started < 0.3
        for conn in accepted:
            conn.close()


def test_a_node_answering_unavailable_opens_the_circuit_but_other_errors_do_not(fake_es_on):
    """A starting node answers 503 (no master, no started shard) for a while; a 404 or 429 is an answer."""
    port = free_port()
    handler = fake_es_on(port)
    breaker = Breaker(failures=2, reset_s=60)
    es = client(port, breaker)
    for status in (404, 429, 404, 429):
        handler.status = status
        with pytest.raises(ApiError):
            es.info()
    assert breaker.state is State.CLOSED
    handler.status = 503
    for _ in range(2):
        with pytest.raises(ApiError):
            es.info()
    assert breaker.state is State.OPEN
    with pytest.raises(CircuitOpen):
        es.info()
    assert handler.hits == 6


def test_with_a_background_probe_no_call_waits_for_a_slowly_returning_node(fake_es_on):
    """A restarting node answers slowly: the probe waits for it, the searches do not."""
    port = free_port()
    breaker = Breaker(failures=1, reset_s=0.2)
    es = search_client(ApiSettings(es_url=f"http://127.0.0.1:{port}"), breaker, probe_in_background=True)
    with pytest.raises(ConnectionError):
        es.info()
    handler = fake_es_on(port)
    handler.delay = 1.0
    time.sleep(0.2)  # the behaviour under test: a probe only after reset_s
    slowest = 0.0
    deadline = time.monotonic() + 10
    while breaker.state is not State.CLOSED and time.monotonic() < deadline:
        started = time.monotonic()
        with pytest.raises(CircuitOpen):
            es.info()
        slowest = max(slowest, time.monotonic() - started)
        time.sleep(0.02)
    assert breaker.state is State.CLOSED and handler.hits == 1 and slowest < 0.1
    assert es.info()["name"] == "fake"


@pytest.mark.parametrize(("total", "failed"), [(1, 1), (0, 0)], ids=["a shard failed", "no shard at all"])
def test_a_probe_whose_search_lost_shards_keeps_the_circuit_open(fake_es_on, total, failed):
    """A restarting node answers before its indices recover: that is not "back"."""
    port = free_port()
    breaker = Breaker(failures=1, reset_s=0.1)
    es = search_client(ApiSettings(es_url=f"http://127.0.0.1:{port}"), breaker, probe_in_background=True)
    with pytest.raises(ConnectionError):
        es.info()
    handler = fake_es_on(port)
    handler.shards_total, handler.shards_failed = total, failed
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        with pytest.raises(CircuitOpen):
            es.info()
        time.sleep(0.05)
    assert handler.hits >= 3 and breaker.state is not State.CLOSED  # probed again and again, never closed
    handler.shards_total, handler.shards_failed = 1, 0
    deadline = time.monotonic() + 5
    while breaker.state is not State.CLOSED and time.monotonic() < deadline:
        with pytest.raises(CircuitOpen):
            es.info()
        time.sleep(0.05)
    assert es.info()["name"] == "fake"
