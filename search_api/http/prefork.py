"""The multi-worker server: gunicorn, `gthread` workers forked from a preloaded master.

The master builds the app and loads the model, jieba and the FAISS snapshot once
(`Runtime.load_shared`); workers fork from it and share those pages copy-on-write. Nothing that
talks or runs is made before the fork: each worker gets its own Elasticsearch client, leg pools
and replica sync thread (`Runtime.start_process`, the `post_fork` hook), warms up (`warm_up`,
before it accepts a connection) and keeps its replica current on its own (change log and alias).
Torch and FAISS run with the thread counts set before the master's first forward pass (one each
by default), so no OpenMP pool exists in the master to deadlock a child. The master's heap is
frozen before it forks (`freeze_heap`): a worker's garbage collections neither walk nor dirty the
half million objects it shares with the master.

Signals (gunicorn's): HUP forks new workers from the master (which first re-reads the alias and
the change log, so they share the newest snapshot) and stops the old ones gracefully; TERM stops
accepting and lets in-flight requests finish (`graceful_timeout_s`); INT/QUIT stop at once.

Gunicorn answers a request it cannot parse itself. A raw non-ASCII byte in the request line (RFC
9112 wants it percent-encoded) is a 400 "Invalid Request Line"; gunicorn writes its errors as an
HTML page through `gunicorn.util.write_error`, which `JsonErrorWorker` replaces in its process by
the JSON error body and headers waitress's errors get (`server.error_body`). This relies on
`Worker.handle_error` calling `util.write_error(sock, status, reason, message)` (unchanged since
gunicorn 19); tests/integration/test_serving.py sends raw bytes to a served app to hold it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from gunicorn import util as gunicorn_util
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from indexer.index_format import IndexerError
from search_api.http.server import ERROR_HEADERS, error_body
from search_api.http.warmup import freeze_heap, warm_up
from search_api.retrieval.runtime import Runtime

log = logging.getLogger(__name__)

DETAIL_CHARS = 200
"""An answer says at most this much of gunicorn's reason."""

KEEPALIVE_S = 5
"""Idle keep-alive connections are closed after this (gunicorn's default, 2 s, is for direct clients)."""

SILENT_WORKER_S = 120
"""The master restarts a worker silent this long. A `gthread` worker's loop beats every second
while requests run in its threads; only a warm-up search waiting on a slow Elasticsearch (several
calls, each up to STORESEARCH_ES_TIMEOUT) keeps it silent, and that must not loop restarts."""


def write_json_error(sock: Any, status: int, reason: str, detail: str) -> None:
    """Gunicorn's `util.write_error`, writing the API's JSON error body instead of an HTML page.

    Gunicorn's reason quotes what it could not parse ("Invalid Request Line 'GET /…'"); the
    answer keeps the reason and drops the quoted bytes, which are the client's own and unreadable.
    """
    body = error_body(status, reason, detail.split(" '", 1)[0].rstrip(":")[:DETAIL_CHARS])
    head = "".join(f"{name}: {value}\r\n" for name, value in ERROR_HEADERS)
    answer = f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n{head}Content-Length: {len(body)}\r\n\r\n"
    gunicorn_util.write_nonblock(sock, answer.encode("latin-1") + body)


class JsonErrorWorker(ThreadWorker):
    """A `gthread` worker whose own error answers (unparsable requests) are JSON."""

    def init_process(self) -> None:
        """Swap gunicorn's error writer in this worker process, then serve."""
        gunicorn_util.write_error = write_json_error
        super().init_process()


class PreforkServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn serving one prebuilt app (no config file, no GUNICORN_CMD_ARGS: these options only)."""

    def __init__(self, app: Flask, runtime: Runtime, *, bind: str, workers: int, threads: int,
                 graceful_timeout_s: int) -> None:
        """Configure; `run()` loads the shared state, forks the workers and serves until a signal."""
        self._app = app
        self._rt = runtime
        self._options: dict[str, Any] = {
            "bind": [bind], "workers": workers, "threads": threads, "worker_class": JsonErrorWorker,
            "preload_app": True, "graceful_timeout": graceful_timeout_s, "keepalive": KEEPALIVE_S,
            "timeout": SILENT_WORKER_S,
            "control_socket_disable": True,  # a fixed path shared by every server on the host; signals do
            "proc_name": "search-api", "accesslog": None, "errorlog": "-",
            "when_ready": self._when_ready, "on_reload": self._on_reload, "post_fork": self._post_fork,
            "post_worker_init": self._post_worker_init, "worker_exit": self._worker_exit,
        }
        super().__init__()

    def load_config(self) -> None:
        """Our options, nothing from the environment or a file."""
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """The app, built before gunicorn starts (preloaded: the master holds it)."""
        return self._app

    def _when_ready(self, server: Any) -> None:
        log.info("master %d: %d workers × %d threads on %s", server.pid, server.num_workers,
                 self.cfg.threads, ", ".join(str(x) for x in server.LISTENERS))

    def _on_reload(self, server: Any) -> None:
        """Before a reload forks new workers: bring the shared snapshot up to date in the master."""
        try:
            self._rt.load_shared()
        except IndexerError as exc:
            log.warning("reload: new workers load the live index themselves: %s", exc)
        freeze_heap()

    def _post_fork(self, server: Any, worker: Any) -> None:
        self._rt.start_process()

    def _post_worker_init(self, worker: Any) -> None:
        warm_up(self._rt, heartbeat=worker.notify)

    def _worker_exit(self, server: Any, worker: Any) -> None:
        self._rt.close()
