"""A `search-api serve` subprocess for tests: free loopback port, bounded waits, connections pinned to a worker."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from search_api.core.settings import ApiSettings

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 300.0
"""A start loads the model; on a busy 2-core machine that has taken 30 s."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(settings: ApiSettings, **extra: str) -> dict[str, str]:
    """The environment a served API (or an `indexer` command) needs to use `settings`' index."""
    return {**os.environ, "PYTHONPATH": str(REPO), "ES_URL": settings.es_url, "STORESEARCH_PREFIX": settings.prefix,
            "STORESEARCH_VECTORS_DIR": str(settings.vectors_dir), "STORESEARCH_CACHE_DIR": str(settings.cache_dir),
            **extra}


def sync_env(settings: ApiSettings) -> dict[str, str]:
    """How often a served API re-reads the alias and the change log, as `settings` say."""
    return {"STORESEARCH_SYNC_SECONDS": str(settings.sync_seconds),
            "STORESEARCH_ALIAS_CHECK_SECONDS": str(settings.alias_check_seconds)}


def path_of(route: str, **params: Any) -> str:
    return route + ("?" + urllib.parse.urlencode(params) if params else "")


class Served:
    """`search-api serve ARGS` on a free port; stderr goes to `log`."""

    def __init__(self, settings: ApiSettings, log: Path, *args: str, **env: str) -> None:
        self.port = free_port()
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "search_api.cli", "serve", "--port", str(self.port), *args],
                env=server_env(settings, **env), cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if self.get("/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise AssertionError(f"server not ready after {START_TIMEOUT_S:.0f} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def get(self, route: str, **params: Any) -> tuple[int, Any]:
        """One GET on a new connection, closed after the answer."""
        return self.request("GET", path_of(route, **params))

    def post(self, route: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """One POST of `body` as JSON on a new connection, closed after the answer."""
        return self.request("POST", route, json.dumps(body).encode(),
                            {"Content-Type": "application/json", **(headers or {})})

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """(status, JSON body) of one request on a new connection, closed after the answer."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
            answer = conn.getresponse()
            return answer.status, json.loads(answer.read() or b"null")
        finally:
            conn.close()

    @contextmanager
    def pinned(self, count: int, *, tries: int = 60) -> Iterator[dict[int, Pinned]]:
        """Keep-alive connections to `count` different workers (a connection stays with the one that took it)."""
        found: dict[int, Pinned] = {}
        try:
            for _ in range(tries):
                conn = Pinned(self.port)
                pid = conn.get("/healthz")[1]["pid"]
                if pid in found:
                    conn.close()
                else:
                    found[pid] = conn
                if len(found) == count:
                    break
            assert len(found) == count, f"{tries} connections reached only workers {sorted(found)}"
            yield found
        finally:
            for conn in found.values():
                conn.close()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


class Pinned:
    """One keep-alive connection: every request on it is answered by the same worker."""

    def __init__(self, port: int) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(self, route: str, **params: Any) -> tuple[int, Any]:
        self._conn.request("GET", path_of(route, **params))
        answer = self._conn.getresponse()
        return answer.status, json.loads(answer.read() or b"null")

    def close(self) -> None:
        self._conn.close()


def children(pid: int) -> set[int]:
    """Live child processes of `pid` (a gunicorn master's workers)."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid and stat[0] != "Z":
                out.add(int(entry.name))
    return out


def read_response(sock: socket.socket) -> tuple[str, dict[str, str], bytes]:
    """Everything the peer writes until it closes, as (status line, lower-cased headers, body).

    A reset after the answer also ends it: a server that refused a body without reading it all
    closes with unread bytes, which the kernel turns into a reset.
    """
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        if not data:
            raise
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    return status, {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}, body


def raw(port: int, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send `request` bytes as they are (no client library cleans them) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        return read_response(sock)


def tcp_sockets(port: int) -> list[tuple[int, int, int, int]]:
    """(remote port, state, receive queue bytes, inode) of every IPv4 socket on local `port` (/proc/net/tcp).

    An inode of 0 is a connection still in the listen backlog, accepted by no process yet.
    """
    out = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, queues, inode = fields[1], fields[2], fields[3], fields[4], fields[9]
        if int(local.rsplit(":", 1)[1], 16) == port:
            out.append((int(remote.rsplit(":", 1)[1], 16), int(state, 16), int(queues.split(":")[1], 16), int(inode)))
    return out


LISTEN = 0x0A
"""The state /proc/net/tcp gives a listening socket."""


def taken_up(port: int, clients: list[socket.socket]) -> bool:
    """Whether a server process has accepted each client connection and read everything sent on it so far."""
    mine = {sock.getsockname()[1] for sock in clients}
    served = {remote: (queued, inode) for remote, _, queued, inode in tcp_sockets(port) if remote in mine}
    return set(served) == mine and all(inode and not queued for queued, inode in served.values())


def accepting(pid: int, port: int) -> bool:
    """Whether process `pid` still polls its listening socket on `port` for new connections.

    A stopping gthread worker takes the listener out of its epoll set at once but closes it only
    after its last connection, so the epoll's registered descriptors (`tfd:` lines of
    /proc/PID/fdinfo) tell "stopping" apart from "running". A process that is gone accepts nothing.
    """
    listeners = {f"socket:[{inode}]" for _, state, _, inode in tcp_sockets(port) if state == LISTEN}
    try:
        fds = {fd for fd in os.listdir(f"/proc/{pid}/fd") if os.readlink(f"/proc/{pid}/fd/{fd}") in listeners}
        polled = {line.split()[1] for fd in os.listdir(f"/proc/{pid}/fdinfo")
                  for line in Path(f"/proc/{pid}/fdinfo/{fd}").read_text().splitlines() if line.startswith("tfd:")}
    except FileNotFoundError:
        return False
    return bool(fds & polled)
