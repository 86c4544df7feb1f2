"""`search-api serve`: load once, warm up, then serve with gunicorn (workers) or waitress (one process).

Gunicorn is the default: a preloaded master forks `STORESEARCH_WORKERS` (2) `gthread` workers that
share the model and the FAISS snapshot, restarts them gracefully on HUP and drains on TERM (see
`prefork`). Waitress (`--server waitress`) serves from this one process, for platforms without
fork; it loads and warms up the same way before it listens.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from indexer.index_format import ConfigError, IndexerError
from search_api.core.settings import ApiSettings
from search_api.http.app import create_app
from search_api.http.warmup import freeze_heap, warm_up
from search_api.retrieval.runtime import Runtime

log = logging.getLogger(__name__)

THREADS = {"gunicorn": 4, "waitress": 8}
"""Default request threads per process: a request thread encodes while a pool thread waits on ES."""


@dataclass(frozen=True)
class ServeOptions:
    """Where and how to serve; None takes the setting (`STORESEARCH_*`) or the server's default."""

    host: str | None = None
    port: int | None = None
    server: str | None = None
    workers: int | None = None
    threads: int | None = None


def serve(settings: ApiSettings, options: ServeOptions) -> int:
    """Serve until stopped (a signal); returns the exit code.

    Raises:
        ConfigError: the options contradict each other (waitress with several workers), or the
            synonym file does not parse.

    """
    server = options.server or settings.api_server
    workers = options.workers or settings.api_workers
    if server == "waitress" and workers != 1:
        if options.workers is not None or "api_workers" in settings.model_fields_set:
            raise ConfigError("the waitress server runs one process: use --workers 1 or --server gunicorn")
        workers = 1
    threads = options.threads or settings.api_threads or THREADS[server]
    host, port = options.host or settings.api_host, options.port or settings.api_port
    rt = Runtime(settings)
    _ = rt.synonyms  # a bad synonym file stops the start before the model loads (ConfigError: file:line)
    try:
        live = rt.load_shared()
        log.info("live index: %s", live.index if live else "none yet (run `indexer build`)")
    except IndexerError as exc:
        log.warning("starting without a live index: %s", exc)
    app = create_app(settings, runtime=rt)
    freeze_heap()
    if server == "waitress":
        from search_api.http.server import make_server

        rt.start_process()
        warm_up(rt)
        log.info("serving on http://%s:%d (waitress, %d threads)", host, port, threads)
        make_server(app, host=host, port=port, threads=threads).run()
        return 0
    from search_api.http.prefork import PreforkServer

    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    log.info("serving on http://%s (gunicorn, %d workers × %d threads)", bind, workers, threads)
    PreforkServer(app, rt, bind=bind, workers=workers, threads=threads,
                  graceful_timeout_s=settings.graceful_timeout_s).run()
    return 0

