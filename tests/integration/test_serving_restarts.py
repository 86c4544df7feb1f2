"""Graceful restarts: a HUP reload under a steady stream of searches and a TERM with requests in flight fail none.

Load goes to 127.0.0.1 only, from a few client threads, each bounded in requests and time.
"""

from __future__ import annotations

import http.client
import json
import signal
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.serving import Served, accepting, children, path_of, sync_env, taken_up
from tests.waiting import poll

pytestmark = pytest.mark.integration

QUERIES = ("memory foam pillow", "抱枕", "保温杯", "travel neck pillow", "black food jar", "羽绒枕头")
CLIENTS = 3
STREAM_LIMIT_S = 90.0
MAX_REQUESTS = 3000


class Stream:
    """CLIENTS threads searching one after another on new connections until stopped (or a bound is hit)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.ok = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(CLIENTS)]
        self._started = time.monotonic()
        for thread in self._threads:
            thread.start()

    def _run(self, n: int) -> None:
        i = n
        while not self._stop.is_set() and time.monotonic() - self._started < STREAM_LIMIT_S:
            with self._lock:
                if self.ok + len(self.failures) >= MAX_REQUESTS:
                    return
            i += 1
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                conn.request("GET", path_of("/search", q=QUERIES[i % len(QUERIES)], size=5),
                             headers={"Connection": "close"})
                answer = conn.getresponse()
                body = answer.read()
                outcome = None if answer.status == 200 else f"{answer.status} {body[:200]!r}"
            except OSError as exc:
                outcome = f"{type(exc).__name__}: {exc}"
            finally:
                conn.close()
            with self._lock:
                if outcome is None:
                    self.ok += 1
                else:
                    self.failures.append(outcome)

    def count(self) -> int:
        with self._lock:
            return self.ok + len(self.failures)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=40)


@pytest.fixture
def server(serving_catalog, tmp_path) -> Iterator[Served]:
    served = Served(serving_catalog, tmp_path / "serve.log", "--workers", "2", STORESEARCH_GRACEFUL_TIMEOUT_S="20",
                    **sync_env(serving_catalog))
    yield served
    served.stop()


def test_hup_reload_under_a_steady_stream_fails_no_request(server: Served):
    old = children(server.proc.pid)
    assert len(old) == 2
    stream = Stream(server.port)
    try:
        poll(lambda: stream.count() >= 10, within=60, what="the stream getting going")
        server.proc.send_signal(signal.SIGHUP)
        poll(lambda: len(children(server.proc.pid) - old) == 2 and not children(server.proc.pid) & old, within=90,
             what="new workers replacing the old ones", every=0.2)
        served_before = stream.count()
        poll(lambda: stream.count() >= served_before + 10, within=60, what="the new workers answering")
    finally:
        stream.stop()
    assert stream.failures == [], f"{len(stream.failures)} failed of {stream.count()}: {stream.failures[:5]}"
    assert stream.ok >= 20
    answered_by = {server.get("/healthz")[1]["pid"] for _ in range(20)}
    assert answered_by <= children(server.proc.pid) and not answered_by & old


def start_post(port: int, body: bytes) -> socket.socket:
    """A POST /search whose body is half sent: in flight until `finish` sends the rest."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (f"POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    sock.sendall(head + body[:len(body) // 2])
    return sock


def finish(sock: socket.socket, body: bytes) -> tuple[str, dict]:
    with sock:
        sock.sendall(body[len(body) // 2:])
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0].decode(), json.loads(payload)


def test_term_lets_requests_in_flight_finish(server: Served):
    body = json.dumps({"q": "memory foam pillow", "size": 3}).encode()
    def both_accepting() -> set[int] | None:
        pids = children(server.proc.pid)
        return pids if len(pids) == 2 and all(accepting(pid, server.port) for pid in pids) else None

    workers = poll(both_accepting, within=60, what="both workers accepting")  # booted workers, not one of them
    in_flight = [start_post(server.port, body) for _ in range(4)]
    try:
        poll(lambda: taken_up(server.port, in_flight), within=60, what="the workers took the connections and read them")
        server.proc.send_signal(signal.SIGTERM)
        poll(lambda: not any(accepting(pid, server.port) for pid in workers), within=60,
             what="the workers stopped accepting")  # they are stopping; the requests in flight are not answered yet
    except BaseException:
        for sock in in_flight:
            sock.close()
        raise
    answers = [finish(sock, body) for sock in in_flight]
    assert [status for status, _ in answers] == ["HTTP/1.1 200 OK"] * 4, answers
    assert all(payload["results"] for _, payload in answers)
    assert server.proc.wait(timeout=30) == 0
    assert "Handling signal: term" in server.output()

